package peering_test

import (
	"errors"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

func dialer(name string, index uint64, serverName string, addrs ...string) peering.Peering {
	return peering.Peering{Peering: api.Peering{Name: name, ModifyIndex: index, PeerServerName: serverName, PeerServerAddresses: addrs}}
}

func TestDialTargets(t *testing.T) {
	manual := dialer("manual", 1, "server.dc5.peering.td", "10.0.0.1:8443")
	manual.ManualServerAddresses = []string{"lb.example.com:443"}
	tests := []struct {
		name     string
		peerings []peering.Peering
		want     []peering.Target
	}{
		{
			name:     "acceptors are skipped",
			peerings: []peering.Peering{dialer("acceptor", 1, "server.dc2.peering.td")},
		},
		{
			name: "greatest ModifyIndex wins even when listed second",
			peerings: []peering.Peering{
				dialer("old", 10, "server.dc2.peering.td", "5.6.7.8:5200"),
				dialer("new", 20, "server.dc2.peering.td", "9.10.11.12:5200"),
			},
			want: []peering.Target{{ServerName: "server.dc2.peering.td", Peering: "new", ModifyIndex: 20,
				Addresses: []peering.Address{{Host: "9.10.11.12", Port: 5200}}}},
		},
		{
			name: "first listed wins a tie",
			peerings: []peering.Peering{
				dialer("first", 5, "server.dc2.peering.td", "1.1.1.1:1"),
				dialer("second", 5, "server.dc2.peering.td", "2.2.2.2:2"),
			},
			want: []peering.Target{{ServerName: "server.dc2.peering.td", Peering: "first", ModifyIndex: 5,
				Addresses: []peering.Address{{Host: "1.1.1.1", Port: 1}}}},
		},
		{
			name: "addresses sorted as text, IPv6 unbracketed",
			peerings: []peering.Peering{
				dialer("p", 1, "server.dc2.peering.td", "9.10.11.12:5200", "[2001:db8::1]:8443", "13.14.15.16:5200"),
			},
			want: []peering.Target{{ServerName: "server.dc2.peering.td", Peering: "p", ModifyIndex: 1,
				Addresses: []peering.Address{{Host: "13.14.15.16", Port: 5200}, {Host: "9.10.11.12", Port: 5200}, {Host: "2001:db8::1", Port: 8443}}}},
		},
		{
			name:     "manual addresses first, hostnames mean DNS",
			peerings: []peering.Peering{manual},
			want: []peering.Target{{ServerName: "server.dc5.peering.td", Peering: "manual", ModifyIndex: 1, Hostnames: true,
				Addresses: []peering.Address{{Host: "lb.example.com", Port: 443}}}},
		},
		{
			name: "sorted by server name",
			peerings: []peering.Peering{
				dialer("b", 1, "server.dc3.peering.td", "1.1.1.1:1"),
				dialer("a", 1, "server.dc2.peering.td", "1.1.1.1:1"),
			},
			want: []peering.Target{
				{ServerName: "server.dc2.peering.td", Peering: "a", ModifyIndex: 1, Addresses: []peering.Address{{Host: "1.1.1.1", Port: 1}}},
				{ServerName: "server.dc3.peering.td", Peering: "b", ModifyIndex: 1, Addresses: []peering.Address{{Host: "1.1.1.1", Port: 1}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := peering.DialTargets(tt.peerings)
			require.Empty(t, errs)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDialTargetsReportsSkippedInput(t *testing.T) {
	tests := []struct {
		name     string
		peering  peering.Peering
		want     error
		noTarget bool
	}{
		{"no port", dialer("p", 1, "server.dc2.peering.td", "10.8.8.8"), peering.ErrBadAddress, true},
		{"port not a number", dialer("p", 1, "server.dc2.peering.td", "10.8.8.8:http"), peering.ErrBadPort, true},
		{"signed port", dialer("p", 1, "server.dc2.peering.td", "10.8.8.8:+8443"), peering.ErrBadPort, true},
		{"port zero", dialer("p", 1, "server.dc2.peering.td", "10.8.8.8:0"), peering.ErrBadPort, true},
		{"port too large", dialer("p", 1, "server.dc2.peering.td", "10.8.8.8:70000"), peering.ErrBadPort, true},
		{"empty host", dialer("p", 1, "server.dc2.peering.td", ":8443"), peering.ErrBadAddress, true},
		{"host with a space", dialer("p", 1, "server.dc2.peering.td", "a b:8443"), peering.ErrBadAddress, true},
		{"wildcard server name", dialer("p", 1, "*.peering.td", "10.0.0.1:1"), peering.ErrInvalidServerName, true},
		{"empty label", dialer("p", 1, "server..peering.td", "10.0.0.1:1"), peering.ErrInvalidServerName, true},
		{"no usable address", dialer("p", 1, "server.dc2.peering.td", "x"), peering.ErrNoUsableAddress, true},
		{"IPs dropped for hostnames", dialer("p", 1, "server.dc2.peering.td", "10.0.0.1:1", "gw.example.com:2"), peering.ErrIPsDropped, false},
		{"one bad address among good ones", dialer("p", 1, "server.dc2.peering.td", "10.0.0.1:1", "10.0.0.2"), peering.ErrBadAddress, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := peering.DialTargets([]peering.Peering{tt.peering})
			joined := errors.Join(errs...)
			require.ErrorIs(t, joined, tt.want)
			for _, err := range errs {
				var ie *peering.InputError
				require.ErrorAs(t, err, &ie)
				require.Equal(t, "default/p", ie.Peering)
			}
			if tt.noTarget {
				require.Empty(t, got)
			} else {
				require.Len(t, got, 1)
			}
		})
	}
}

func TestSkippedPeeringDoesNotShadow(t *testing.T) {
	got, errs := peering.DialTargets([]peering.Peering{
		dialer("good", 1, "server.dc2.peering.td", "10.0.0.1:8443"),
		dialer("broken", 9, "server.dc2.peering.td", "10.0.0.2"),
	})
	require.Len(t, errs, 2)
	require.Len(t, got, 1)
	require.Equal(t, "good", got[0].Peering)
}

func TestCheckServerName(t *testing.T) {
	long := "server.dc1.peering." + string(make([]byte, 0))
	for range 64 {
		long += "a"
	}
	tests := []struct {
		name  string
		valid bool
	}{
		{"server.dc1.peering.11111111-2222-3333-4444-555555555555.consul", true},
		{"server.dc1.peering.td", true},
		{"", false},
		{"server.dc1..td", false},
		{"server.*.peering.td", false},
		{"server dc1.peering.td", false},
		{long, false},
		{"a." + string(make([]byte, 0)) + repeat("b.", 126), false},
	}
	for _, tt := range tests {
		err := peering.CheckServerName(tt.name)
		if tt.valid {
			require.NoError(t, err, tt.name)
		} else {
			require.ErrorIs(t, err, peering.ErrInvalidServerName, tt.name)
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestServerName(t *testing.T) {
	require.Equal(t, "server.dc1.peering.abc.consul", peering.ServerName("dc1", "abc.consul"))
}
