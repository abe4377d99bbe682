// Package xdsclient is a minimal delta ADS client for tests and the test data plane: it
// subscribes to resource types, acknowledges every response, and hands the responses
// to its caller.
package xdsclient
