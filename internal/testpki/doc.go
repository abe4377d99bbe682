// Package testpki makes X.509 certificates for tests: certificate authorities, server
// and client certificates signed by them, their PEM forms and files, with ECDSA P-256
// keys. It is what the TLS and mTLS tests of the module share, so that every test makes
// its certificates the same way.
package testpki
