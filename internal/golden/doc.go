// Package golden compares test output with golden files under testdata.
//
// Run the tests with -update to rewrite the files:
//
//	go test ./... -update
//
// Without -update a missing golden file fails the test, so a new case cannot pass by accident.
// Only _test.go files import this package, because it registers the -update flag.
package golden
