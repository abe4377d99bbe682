package xds

// PatchAlways makes every update that can patch the Model patch it, however many
// peerings changed, until restore is called.
func PatchAlways() (restore func()) {
	old := patchLimit
	patchLimit = 0
	return func() { patchLimit = old }
}
