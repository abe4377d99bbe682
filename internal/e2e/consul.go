package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
	"github.com/peeringgw/peeringgw/peering"
)

// PeeringTimeout bounds the wait for a peering to become ACTIVE. Consul 1.14 takes up to
// about 5 s after Establish (its leader dials peers at most once per 5 s after a
// start-up burst); the rest is margin for a loaded machine.
const PeeringTimeout = 60 * time.Second

// Poll is the pause between two checks of a condition a test waits for.
const Poll = 50 * time.Millisecond

// RegisterGateway registers the mesh gateway r describes with the agent behind client,
// built by gateway.Registration.Build, and returns its service ID.
func RegisterGateway(t testing.TB, client *api.Client, r gateway.Registration) string {
	t.Helper()
	reg, err := r.Build()
	if err != nil {
		t.Fatalf("e2e: build gateway registration: %v", err)
	}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		t.Fatalf("e2e: register gateway %s: %v", reg.ID, err)
	}
	return reg.ID
}

// TrustDomain returns the trust domain of the cluster behind client.
func TrustDomain(t testing.TB, client *api.Client) string {
	t.Helper()
	roots, _, err := client.Connect().CARoots(nil)
	if err != nil {
		t.Fatalf("e2e: read CA roots: %v", err)
	}
	return roots.TrustDomain
}

// GenerateToken generates a peering token for peer name on the accepting cluster behind
// client, listing externalAddrs as its ServerExternalAddresses, and returns the token and
// its decoded form.
func GenerateToken(t testing.TB, client *api.Client, name string, externalAddrs ...string) (string, *peering.Token) {
	t.Helper()
	resp, _, err := client.Peerings().GenerateToken(context.Background(), api.PeeringGenerateTokenRequest{
		PeerName:                name,
		ServerExternalAddresses: externalAddrs,
	}, nil)
	if err != nil {
		t.Fatalf("e2e: generate peering token %s: %v", name, err)
	}
	tok, err := peering.DecodeToken(resp.PeeringToken)
	if err != nil {
		t.Fatalf("e2e: decode peering token %s: %v", name, err)
	}
	return resp.PeeringToken, tok
}

// Establish establishes peering name with token on the dialing cluster behind client.
// Consul answers once the dialing server has exchanged the token's secret with the
// accepting servers, or has given up after trying every address for a few seconds.
func Establish(client *api.Client, name, token string) error {
	_, _, err := client.Peerings().Establish(context.Background(), api.PeeringEstablishRequest{
		PeerName:     name,
		PeeringToken: token,
	}, nil)
	return err
}

// WaitPeering polls peering name on the cluster behind client until ok accepts it, and
// fails the test after timeout with the last state seen.
func WaitPeering(t testing.TB, client *api.Client, name string, timeout time.Duration, ok func(*api.Peering) bool) *api.Peering {
	t.Helper()
	var last *api.Peering
	Eventually(t, timeout, func() error {
		p, _, err := client.Peerings().Read(context.Background(), name, nil)
		switch {
		case err != nil:
			return fmt.Errorf("read peering %s: %w", name, err)
		case p == nil:
			return fmt.Errorf("got no peering %s, want one", name)
		case !ok(p):
			return fmt.Errorf("got peering %s in state %s, stream %+v", name, p.State, p.StreamStatus)
		}
		last = p
		return nil
	})
	return last
}

// Eventually calls check every Poll until it returns nil, and fails the test with the
// last error check returned once timeout has passed. check runs on the caller's
// goroutine, so it may itself fail the test at once.
func Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: not done after %s: %v", timeout, err)
		}
		<-tick.C
	}
}

// Active reports whether a peering is ACTIVE.
func Active(p *api.Peering) bool { return p.State == api.PeeringStateActive }
