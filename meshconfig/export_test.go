package meshconfig

// WithBeforeWrite runs f after each read of Apply and before the check-and-set write that
// follows it, with the 1-based attempt number, so that a test can stage a concurrent
// writer at the one moment it matters.
func WithBeforeWrite(f func(attempt int)) Option {
	return optionFunc(func(o *options) { o.beforeWrite = f })
}
