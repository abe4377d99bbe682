package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/acl"
	"github.com/peeringgw/peeringgw/peering"
)

// Cluster labels.
const (
	clusterLocal = "local"
	clusterPeer  = "peer"
)

// cluster is what doctor read from one Consul cluster.
type cluster struct {
	Label   string
	Address string

	Datacenter  string
	TrustDomain string
	Mesh        *api.MeshConfigEntry
	Gateways    []meshGateway
	// GatewaysFiltered reports that ACLs hid some catalog services from the token.
	GatewaysFiltered bool
	Servers          []*api.ServiceEntry
	Peerings         []peering.Peering
	// Denied are the reads Consul refused to the token.
	Denied []*peering.PermissionError
	// Policy is the check of the token's policies, nil when they could not be read.
	Policy *acl.Report
}

// serverName is the cluster's servers' TLS name, or "" when the datacenter or trust
// domain is unknown.
func (cl *cluster) serverName() string {
	if cl.Datacenter == "" || cl.TrustDomain == "" {
		return ""
	}
	return peering.ServerName(cl.Datacenter, cl.TrustDomain)
}

// doctorOptions are the flags the checks depend on.
type doctorOptions struct {
	allowLoopback bool
	edition       acl.Edition
}

func runDoctor(c *cli, args []string) error {
	fs := c.newFlagSet("doctor", "[flags]", `
Check a live Consul cluster, and with -peer-addr its peer, for routing peering
control-plane traffic through mesh gateways: the mesh config entry and the order of
operations, the mesh gateways and their WAN addresses, the servers' grpc_tls_port, the
token's permissions, the gateways' options, the peerings' states and, with both
clusters, whether each peering dials the other cluster's mesh gateways. Each finding
says what is wrong, why it matters and the fix, under a stable ID.

The token doctor runs with is checked as the gateway's token: run doctor with the
gateway's token to check it (a management token passes).

Exit status: 1 when a finding is at least as severe as -fail-on (default: any error or
warning), 0 otherwise; info findings never fail by default.`)
	var cf consulFlags
	cf.register(fs)
	var pf peerFlags
	pf.register(fs)
	format := fs.String("format", "text", "output `format`: text or json")
	failOn := fs.String("fail-on", "warning", "lowest `severity` that makes the exit status 1: error, warning, info or never")
	edition := fs.String("edition", "ce", "Consul `edition` the token's policy is checked for: ce, enterprise or both")
	var opts doctorOptions
	fs.BoolVar(&opts.allowLoopback, "allow-loopback", false, "accept loopback WAN addresses (clusters peered on one host, as in tests and demos)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "text", "json"); err != nil {
		return err
	}
	if err := oneOf(fs, "fail-on", *failOn, "error", "warning", "info", "never"); err != nil {
		return err
	}
	var err error
	if opts.edition, err = editionFlag(fs, *edition); err != nil {
		return err
	}
	if pf.addr == "" && (pf.token != "" || pf.tokenFile != "" || pf.caFile != "") {
		return usagef(fs, "-peer-token, -peer-token-file and -peer-ca-file need -peer-addr")
	}
	clusters, err := c.collectClusters(&cf, &pf, opts)
	if err != nil {
		return err
	}
	rep := newDoctorReport(clusters, diagnose(clusters, opts))
	if err := rep.write(c.stdout, *format); err != nil {
		return err
	}
	if rep.fails(*failOn) {
		return errFindings
	}
	return nil
}

// collectClusters reads the local cluster and, when -peer-addr is set, the peer.
func (c *cli) collectClusters(cf *consulFlags, pf *peerFlags, opts doctorOptions) ([]*cluster, error) {
	local, err := cf.connect()
	if err != nil {
		return nil, err
	}
	peer, err := pf.connect()
	if err != nil {
		return nil, err
	}
	cl, err := collect(c.ctx, local, clusterLocal, opts)
	if err != nil {
		return nil, err
	}
	clusters := []*cluster{cl}
	if peer != nil {
		pc, err := collect(c.ctx, peer, clusterPeer, opts)
		if err != nil {
			return nil, fmt.Errorf("peer: %w", err)
		}
		clusters = append(clusters, pc)
	}
	return clusters, nil
}

// collect reads what the checks need from one cluster. Reads Consul refuses to the token
// are recorded in Denied; any other failure, Consul unreachable first of all, is an
// error.
func collect(ctx context.Context, conn *consulConn, label string, opts doctorOptions) (*cluster, error) {
	cl := &cluster{Label: label, Address: conn.addr}
	src, err := peering.NewConsulSources(conn.cfg, "")
	if err != nil {
		return nil, err
	}
	keep := func(err error) error {
		if pe, ok := errors.AsType[*peering.PermissionError](err); ok {
			cl.Denied = append(cl.Denied, pe)
			return nil
		}
		if err != nil {
			return conn.explain(err)
		}
		return nil
	}
	reads := []func() error{
		func() error { return readPart(ctx, src.Datacenter, &cl.Datacenter) },
		func() error { return readPart(ctx, src.TrustDomain, &cl.TrustDomain) },
		func() error { return readPart(ctx, src.MeshConfig, &cl.Mesh) },
		func() error { return readPart(ctx, src.Servers, &cl.Servers) },
		func() error { return readPart(ctx, src.Peerings, &cl.Peerings) },
		func() (err error) {
			cl.Gateways, cl.GatewaysFiltered, err = listMeshGateways(ctx, conn.client)
			return err
		},
	}
	for _, read := range reads {
		if err := keep(read()); err != nil {
			return nil, err
		}
	}
	cl.Policy = checkTokenPolicy(ctx, conn.client, gatewayName(cl.Gateways), opts.edition)
	return cl, nil
}

// readPart reads one part of a State once into dst.
func readPart[T any](ctx context.Context, src peering.Source[T], dst *T) error {
	v, _, err := src.Read(ctx, peering.Version{})
	if err == nil {
		*dst = v
	}
	return err
}

// gatewayName is the service name the token's service:write is checked for.
func gatewayName(gws []meshGateway) string {
	if len(gws) > 0 {
		return gws[0].Entry.Service.Service
	}
	return acl.DefaultGatewayName
}

// checkTokenPolicy checks the policies of the client's token as a gateway token. It
// returns nil when that cannot be judged: ACLs are off, the token may not read its
// policies (that needs acl:read), or it also holds roles or identities whose rules
// this check cannot see and its policies alone fall short.
func checkTokenPolicy(ctx context.Context, client *api.Client, gwName string, e acl.Edition) *acl.Report {
	q := (&api.QueryOptions{}).WithContext(ctx)
	self, _, err := client.ACL().TokenReadSelf(q)
	if err != nil || self == nil {
		return nil
	}
	var rules []string
	for _, link := range self.Policies {
		p, _, err := client.ACL().PolicyRead(link.ID, q)
		if err != nil || p == nil {
			return nil
		}
		rules = append(rules, p.Rules)
	}
	rep, err := acl.Check(strings.Join(rules, "\n"), e, acl.WithGatewayName(gwName))
	if err != nil {
		return nil
	}
	opaque := len(self.Roles) > 0 || len(self.ServiceIdentities) > 0 || len(self.NodeIdentities) > 0
	if opaque && !rep.Sufficient() {
		return nil
	}
	return &rep
}
