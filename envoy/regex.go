package envoy

// RegexProgramSizeLimit is the largest RE2 program size Envoy accepts in fairway's fleet: the bootstrap sets re2.max_program_size.error_level to it, and the translator refuses a regex that would exceed it.
const RegexProgramSizeLimit = 1000
