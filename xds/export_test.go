package xds

// SetParallelMin sets the peering count from which a first build runs in parallel, for
// a test, and returns a function that restores it.
func SetParallelMin(n int) (restore func()) {
	old := parallelMin
	parallelMin = n
	return func() { parallelMin = old }
}
