//go:build race

package tests

// raceEnabled builds the fairway under test with the race detector too, when
// the tests themselves run with it.
const raceEnabled = true
