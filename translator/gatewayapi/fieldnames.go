package gatewayapi

import "fmt"

// The field paths that conditions name ("spec.rules[1].matches[0].path")
// are read only when something is wrong, but lowering hands them down for
// every rule and match: built anew for each rule of 10k routes, they were
// a tenth of a cold build's allocations. Those of a route's first rules,
// matches and backendRefs are built once, here, and read-only after.

// How many rules, matches per rule and backendRefs per rule have their
// field paths built once; past these, they are built when asked for.
const (
	namedRules       = 16
	namedMatches     = 8
	namedBackendRefs = 8
)

// ruleFields are the field paths of one rule of a route's spec.rules.
type ruleFields struct {
	rule, filters, timeouts string
	matches, paths, methods [namedMatches]string
	backendRefs             [namedBackendRefs]string
}

var ruleFieldTable = func() (t [namedRules]ruleFields) {
	for i := range t {
		t[i] = makeRuleFields(i)
	}
	return t
}()

func makeRuleFields(i int) ruleFields {
	rule := fmt.Sprintf("spec.rules[%d]", i)
	f := ruleFields{rule: rule, filters: rule + ".filters", timeouts: rule + ".timeouts"}
	for j := range f.matches {
		f.matches[j] = fmt.Sprintf("%s.matches[%d]", rule, j)
		f.paths[j], f.methods[j] = f.matches[j]+".path", f.matches[j]+".method"
	}
	for j := range f.backendRefs {
		f.backendRefs[j] = fmt.Sprintf("%s.backendRefs[%d]", rule, j)
	}
	return f
}

// fieldsOfRule are the field paths of rule i.
func fieldsOfRule(i int) *ruleFields {
	if i < namedRules {
		return &ruleFieldTable[i]
	}
	f := makeRuleFields(i)
	return &f
}

// match is the path of the rule's match j, path and method those of
// its path (HTTPRoute) and method (GRPCRoute) match.
func (f *ruleFields) match(j int) string {
	if j < namedMatches {
		return f.matches[j]
	}
	return fmt.Sprintf("%s.matches[%d]", f.rule, j)
}

func (f *ruleFields) path(j int) string {
	if j < namedMatches {
		return f.paths[j]
	}
	return f.match(j) + ".path"
}

func (f *ruleFields) method(j int) string {
	if j < namedMatches {
		return f.methods[j]
	}
	return f.match(j) + ".method"
}

// backendRef is the path of the rule's backendRef j.
func (f *ruleFields) backendRef(j int) string {
	if j < namedBackendRefs {
		return f.backendRefs[j]
	}
	return fmt.Sprintf("%s.backendRefs[%d]", f.rule, j)
}
