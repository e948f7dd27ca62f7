//go:build !race

package serveproc

const raceEnabled = false
