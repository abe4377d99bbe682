// Package consulerr holds the error values that mean the same thing in every package of
// this module, so that each package can export the same value under its own name.
package consulerr

import "errors"

// ErrPermissionDenied: Consul refused a request's ACL token (HTTP 403), or filtered its
// answer by ACLs.
var ErrPermissionDenied = errors.New("permission denied")
