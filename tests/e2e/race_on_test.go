//go:build race

package e2e

// raceEnabled builds the fairway under test with the race detector too, when
// the tests themselves run with it, as the tests package does.
const raceEnabled = true
