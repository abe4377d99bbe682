//go:build race

package xds_test

// raceEnabled reports whether the tests run with the race detector, which makes the
// random property tests about ten times slower; they then draw fewer States.
const raceEnabled = true
