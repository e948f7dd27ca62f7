//go:build race

package envoy

// raceEnabled: the race detector allocates for itself, so allocation
// counts are not checked under it.
const raceEnabled = true
