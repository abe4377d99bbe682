//go:build race

package load_test

// raceEnabled says that the race detector is on.
const raceEnabled = true
