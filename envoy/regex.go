package envoy

// RegexProgramSizeLimit is the largest RE2 program size (RE2's
// ProgramSize: the number of instructions of the compiled regex) that
// fairway's Envoys accept. The bootstrap sets the runtime key
// re2.max_program_size.error_level to it; Envoy's own default is 100,
// which a single-label wildcard check crosses once the host's suffix is
// longer than about 80 characters, and one such regex gets the whole
// route table rejected. 1000 covers the check of every valid host (a DNS
// name has at most 253 characters, and its check measures under 300)
// with room to spare, while still refusing a pathological pattern.
const RegexProgramSizeLimit = 1000
