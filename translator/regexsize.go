package translator

import (
	"fmt"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// regexProgramSize estimates, from above, the RE2 program size Envoy
// computes for expr (RE2::ProgramSize, the instruction count of the
// compiled program), which Envoy compares with
// re2.max_program_size.error_level.
//
// Go's regexp/syntax compiles the same syntax into a program of the same
// shape, so len(Prog.Inst) is close, and this starts from it. They differ
// where RE2 works on bytes and Go on runes: RE2 spells a character class
// that reaches beyond ASCII as UTF-8 byte sequences (several instructions
// where Go has one), case folding that reaches a non-ASCII rune (k and
// the Kelvin sign) likewise, and an unanchored regex gets a two
// instruction ".*?" prefix. Go in turn counts a fail instruction and the
// whole-match captures that RE2 leaves out. The estimate adds, per rune
// instruction that reaches past ASCII, two instructions per UTF-8 byte of
// the widest rune for each such range, which bounds RE2's expansion, and
// the prefix when unanchored. TestRegexProgramSizeBoundsRE2 holds it
// against sizes measured with RE2 itself: never below them, and for the
// wildcard check exactly RE2's size plus 2.
func regexProgramSize(expr string) (int, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	size := len(prog.Inst)
	for _, inst := range prog.Inst {
		switch inst.Op {
		case syntax.InstRune, syntax.InstRune1:
			size += utf8Expansion(inst.Rune, syntax.Flags(inst.Arg)&syntax.FoldCase != 0)
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			size += 2 * utf8.UTFMax
		}
	}
	if prog.StartCond()&syntax.EmptyBeginText == 0 {
		size += 2
	}
	return size, nil
}

// utf8Expansion bounds the instructions RE2 adds for a rune class (pairs
// of lo, hi; a single rune is itself, with its case folds when fold is
// set) to match it as UTF-8 bytes.
func utf8Expansion(runes []rune, fold bool) int {
	extra := 0
	if len(runes) == 1 {
		r := runes[0]
		extra = 2 * (utf8.RuneLen(r) - 1)
		for f := unicode.SimpleFold(r); fold && f != r; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf {
				extra += 2 * utf8.RuneLen(f)
			}
		}
		return extra
	}
	for i := 0; i+1 < len(runes); i += 2 {
		if hi := runes[i+1]; hi > utf8.RuneSelf-1 {
			n := utf8.RuneLen(hi)
			if n < 0 {
				n = utf8.UTFMax
			}
			extra += 2 * n
		}
	}
	return extra
}

// checkRegexSize reports a regex fairway would emit whose program Envoy
// would refuse, which would get the whole resource holding it rejected.
func checkRegexSize(expr string, limit int) error {
	size, err := regexProgramSize(expr)
	if err != nil {
		return fmt.Errorf("regex %q does not compile: %v", expr, err)
	}
	if size > limit {
		return fmt.Errorf("its match needs a regex of RE2 program size about %d, over Envoy's limit of %d (re2.max_program_size.error_level)", size, limit)
	}
	return nil
}
