// Package faultproxy is a loopback proxy for tests that injects network and server
// faults between a client and the server it talks to, switched at run time: pass
// through, added latency, connections refused, connections reset, a server that
// hangs, and (for HTTP) a fixed error status such as 500.
//
//	p, err := faultproxy.New(agentAddr, faultproxy.HTTP())
//	...
//	client := clientOf(p.Addr())
//	p.Set(faultproxy.Status(500)) // every request now gets a 500
//	p.Set(faultproxy.Refuse)      // nothing listens any more
//	p.Set(faultproxy.Pass)        // back to normal, same address
//
// A TCP proxy (the default) forwards bytes without reading them; an HTTP proxy
// ([HTTP]) serves requests with net/http/httputil.ReverseProxy, which lets it answer
// requests itself.
package faultproxy
