// Package xdsclient is a minimal delta ADS client for tests and the test data plane: it
// subscribes to resource types, changes subscriptions, and hands responses to its
// caller, acknowledging them itself ([Client.Recv]) or letting the caller accept or
// reject each one ([Client.Next], [Client.Ack], [Client.Nack]).
package xdsclient
