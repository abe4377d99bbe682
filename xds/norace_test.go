//go:build !race

package xds_test

// raceEnabled reports whether the tests run with the race detector.
const raceEnabled = false
