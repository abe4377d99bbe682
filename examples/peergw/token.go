package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/peeringgw/peeringgw/meshconfig"
	"github.com/peeringgw/peeringgw/peering"
)

// tokenReport is what token inspect prints. It has no field for the establishment
// secret, so no output can hold it.
type tokenReport struct {
	ServerName            string        `json:"server_name"`
	RemoteDatacenter      string        `json:"remote_datacenter,omitempty"`
	RemotePartition       string        `json:"remote_partition,omitempty"`
	PeerID                string        `json:"peer_id"`
	ServerAddresses       []string      `json:"server_addresses"`
	ManualServerAddresses []string      `json:"manual_server_addresses,omitempty"`
	DialAddresses         []string      `json:"dial_addresses"`
	Certificates          []tokenCert   `json:"ca_certificates"`
	CertificateError      string        `json:"ca_certificate_error,omitempty"`
	Issuer                *issuerReport `json:"issuer,omitempty"`
	// Hint says what the addresses probably are when the issuer was not asked.
	Hint string `json:"hint,omitempty"`
}

type tokenCert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	URIs      []string  `json:"uris,omitempty"`
	Expired   bool      `json:"expired"`
}

// issuerReport compares the token with the cluster that issued it.
type issuerReport struct {
	Address string `json:"address"`
	// ServerName is the issuer's own server name; Matches reports whether the token's
	// equals it.
	ServerName              string       `json:"server_name"`
	Matches                 bool         `json:"matches"`
	PeerThroughMeshGateways bool         `json:"peer_through_mesh_gateways"`
	GatewayWANAddresses     []string     `json:"gateway_wan_addresses"`
	Addresses               []classified `json:"addresses"`
	// Verdict is "gateways", "servers", "mixed" or "unknown".
	Verdict string `json:"verdict"`
}

// consulGRPCTLSPort is Consul's default gRPC TLS port, which servers publish to peers.
const consulGRPCTLSPort = "8503"

func runTokenInspect(c *cli, args []string) error {
	fs := c.newFlagSet("token inspect", "[flags] TOKEN|-", `
Decode a peering token (from the argument, or stdin for -) and print what the dialing
cluster will use: the accepting servers' TLS name, the addresses it dials, the peer ID,
the accepting cluster, and its CA certificates with their expiry. The establishment
secret is never printed.

With -issuer, the Consul at -http-addr (or CONSUL_HTTP_ADDR) must be the cluster that
generated the token: the addresses are compared with its mesh gateways' WAN addresses
and its servers', which tells whether the dialer will go through mesh gateways.`)
	var cf consulFlags
	cf.register(fs)
	format := fs.String("format", "text", "output `format`: text or json")
	issuer := fs.Bool("issuer", false, "compare the token with the Consul cluster that issued it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "text", "json"); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(fs, "want one token argument (- for stdin), got %d", fs.NArg())
	}
	if !*issuer {
		for _, name := range cf.names() {
			if isSet(fs, name) {
				return usagef(fs, "-%s needs -issuer", name)
			}
		}
	}
	raw, err := c.tokenText(fs.Arg(0))
	if err != nil {
		return err
	}
	tok, err := peering.DecodeToken(raw)
	if err != nil {
		return err
	}
	rep := newTokenReport(tok, time.Now())
	if *issuer {
		conn, err := cf.connect()
		if err != nil {
			return err
		}
		if rep.Issuer, err = inspectIssuer(c.ctx, conn, tok); err != nil {
			return err
		}
		rep.Hint = ""
	}
	if err := writeTokenReport(c.stdout, rep, *format); err != nil {
		return err
	}
	if rep.Issuer != nil && !rep.Issuer.Matches {
		fmt.Fprintf(c.stderr, "peergw token inspect: the Consul at %s did not issue this token: its servers are %s, the token's are %s\n",
			rep.Issuer.Address, rep.Issuer.ServerName, rep.ServerName)
		return errFindings
	}
	return nil
}

// tokenText returns the token argument, or stdin for "-".
func (c *cli) tokenText(arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the token from stdin: %w", err)
	}
	return string(b), nil
}

func newTokenReport(tok *peering.Token, now time.Time) *tokenReport {
	rep := &tokenReport{
		ServerName:            tok.ServerName,
		RemoteDatacenter:      tok.Remote.Datacenter,
		RemotePartition:       tok.Remote.Partition,
		PeerID:                tok.PeerID,
		ServerAddresses:       tok.ServerAddresses,
		ManualServerAddresses: tok.ManualServerAddresses,
		DialAddresses:         tok.Addresses(),
		Certificates:          []tokenCert{},
		Hint:                  addressHint(tok.Addresses()),
	}
	certs, err := tok.Certificates()
	if err != nil {
		rep.CertificateError = err.Error()
	}
	for _, c := range certs {
		rep.Certificates = append(rep.Certificates, tokenCert{
			Subject: c.Subject, Issuer: c.Issuer, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
			URIs: c.URIs, Expired: now.After(c.NotAfter),
		})
	}
	return rep
}

// addressHint guesses what the dial addresses are without asking the issuer.
func addressHint(addrs []string) string {
	for _, a := range addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port != consulGRPCTLSPort {
			return "run with -issuer against the issuing cluster to tell its mesh gateways from its servers"
		}
	}
	return "every address is on port " + consulGRPCTLSPort + ", Consul's default gRPC TLS port: probably the servers, " +
		"so the issuing cluster did not peer through mesh gateways when it generated the token; run with -issuer to be sure"
}

// inspectIssuer compares tok with the cluster behind conn.
func inspectIssuer(ctx context.Context, conn *consulConn, tok *peering.Token) (*issuerReport, error) {
	src, err := peering.NewConsulSources(conn.cfg, "")
	if err != nil {
		return nil, err
	}
	dc, _, err := src.Datacenter.Read(ctx, peering.Version{})
	if err != nil {
		return nil, conn.explain(err)
	}
	td, _, err := src.TrustDomain.Read(ctx, peering.Version{})
	if err != nil {
		return nil, conn.explain(err)
	}
	entry, err := meshconfig.Read(ctx, conn.client)
	if err != nil {
		return nil, conn.explain(err)
	}
	gws, _, err := listMeshGateways(ctx, conn.client)
	if err != nil {
		return nil, conn.explain(err)
	}
	servers, _, err := src.Servers.Read(ctx, peering.Version{})
	if err != nil {
		return nil, conn.explain(err)
	}
	rep := &issuerReport{
		Address:                 conn.addr,
		ServerName:              peering.ServerName(dc, td),
		PeerThroughMeshGateways: meshconfig.Enabled(entry),
		GatewayWANAddresses:     []string{},
		Addresses:               classify(tok.Addresses(), gws, serverAddresses(servers)),
	}
	rep.Matches = rep.ServerName == tok.ServerName
	for _, g := range gws {
		rep.GatewayWANAddresses = append(rep.GatewayWANAddresses, g.WAN)
	}
	rep.Verdict = verdict(rep.Addresses)
	return rep, nil
}

func writeTokenReport(w io.Writer, rep *tokenReport, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	p := &printer{w: w}
	p.printf("Server name:        %s\n", rep.ServerName)
	p.printf("Remote datacenter:  %s\n", orNone(rep.RemoteDatacenter))
	if rep.RemotePartition != "" {
		p.printf("Remote partition:   %s\n", rep.RemotePartition)
	}
	p.printf("Peer ID:            %s\n", rep.PeerID)
	p.printf("Server addresses:   %s\n", orNone(strings.Join(rep.ServerAddresses, ", ")))
	p.printf("Manual addresses:   %s\n", orNone(strings.Join(rep.ManualServerAddresses, ", ")))
	p.printf("Dialer connects to: %s\n", strings.Join(rep.DialAddresses, ", "))
	p.printf("Establishment secret: present, never printed\n")
	writeCerts(p, rep)
	if rep.Issuer != nil {
		writeIssuer(p, rep.Issuer)
	}
	if rep.Hint != "" {
		p.printf("Hint: %s\n", rep.Hint)
	}
	return p.err
}

func writeCerts(p *printer, rep *tokenReport) {
	p.printf("CA certificates:    %d\n", len(rep.Certificates))
	for _, c := range rep.Certificates {
		state := "expires in " + untilText(time.Until(c.NotAfter))
		if c.Expired {
			state = "EXPIRED"
		}
		p.printf("  - subject %s, issuer %s\n    valid %s to %s (%s)\n", c.Subject, c.Issuer,
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), state)
		for _, u := range c.URIs {
			p.printf("    URI %s\n", u)
		}
	}
	if rep.CertificateError != "" {
		p.printf("  unreadable: %s\n", rep.CertificateError)
	}
}

func writeIssuer(p *printer, is *issuerReport) {
	match := "issued this token"
	if !is.Matches {
		match = "did NOT issue this token (its servers are " + is.ServerName + ")"
	}
	p.printf("Issuer %s: %s; PeerThroughMeshGateways = %t\n", is.Address, match, is.PeerThroughMeshGateways)
	p.printf("  mesh gateway WAN addresses: %s\n", orNone(strings.Join(is.GatewayWANAddresses, ", ")))
	for _, a := range is.Addresses {
		what := "neither a mesh gateway nor a server of the issuer"
		switch a.Kind {
		case kindGateway:
			what = "mesh gateway " + a.Owner
		case kindServer:
			what = "server " + a.Owner + " (direct, not through a mesh gateway)"
		}
		p.printf("  %s: %s\n", a.Address, what)
	}
	p.printf("Verdict: the dial addresses are %s\n", map[string]string{
		"gateways": "the issuer's mesh gateways: the dialer goes through them",
		"servers":  "the issuer's servers: the dialer does not go through mesh gateways; generate a new token after setting PeerThroughMeshGateways",
		"mixed":    "partly the issuer's mesh gateways",
		"unknown":  "unknown to the issuer",
	}[is.Verdict])
}

// untilText says how long d is, in days when it is more than two.
func untilText(d time.Duration) string {
	if d > 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Truncate(time.Minute).String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printer writes text and remembers the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}
