// Package testconsul starts real Consul agents for tests.
//
// The agents run Consul v1.14.8, built from the nested module in consulbin
// by scripts/consul.sh and cached outside the repository, so only the first
// run on a machine spends the few minutes the build takes. Start runs an
// agent on free loopback ports with peering and a grpc_tls port enabled, so
// two agents in one test can peer with each other, and stops it when the
// test ends:
//
//	dc1 := testconsul.Start(t)
//	dc2 := testconsul.Start(t, testconsul.WithDatacenter("dc2"))
//	resp, _, err := dc1.Client().Peerings().GenerateToken(ctx, api.PeeringGenerateTokenRequest{PeerName: "dc2"}, nil)
//
// Set PEERINGGW_CONSUL to use another consul binary instead.
package testconsul
