package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// severity is how much a finding matters. Its JSON form is its name.
type severity string

const (
	sevError   severity = "error"
	sevWarning severity = "warning"
	sevInfo    severity = "info"
)

// rank orders severities: errors first.
func (s severity) rank() int {
	return map[severity]int{sevError: 0, sevWarning: 1, sevInfo: 2}[s]
}

// Finding IDs. They are stable: scripts may match on them. findingKinds gives each its
// severity, which never depends on the case.
const (
	idMeshEntryMissing         = "mesh-entry-missing"
	idMeshFlagOff              = "mesh-flag-off"
	idMeshEntryAfterToken      = "mesh-entry-after-token"
	idGatewayMissing           = "gateway-missing"
	idGatewayNotDefault        = "gateway-not-default-partition"
	idGatewayNoWAN             = "gateway-no-wan-address"
	idGatewayWANLoopback       = "gateway-wan-loopback"
	idGatewayWANUnspecified    = "gateway-wan-unspecified"
	idGatewayOptionInvalid     = "gateway-option-invalid"
	idGatewayOptionIneffective = "gateway-option-ineffective"
	idServerNoGRPCTLSPort      = "server-no-grpc-tls-port"
	idServerUnusable           = "server-unusable"
	idServersOnlyReadReplicas  = "servers-only-read-replicas"
	idServersNoneUsable        = "servers-none-usable"
	idTokenPeeringRead         = "token-peering-read"
	idTokenPermission          = "token-permission"
	idTokenPolicyInsufficient  = "token-policy-insufficient"
	idPeeringPending           = "peering-pending"
	idPeeringNotActive         = "peering-not-active"
	idPeeringAddressSkipped    = "peering-address-skipped"
	idPeeringNotGateways       = "peering-addresses-not-gateways"
	idPeerNotPeered            = "peer-not-peered"
)

// findingKinds lists every finding ID with its severity, in the order reports show
// them within a severity: the mesh entry and the order of operations, the gateways, the
// servers, the token, the peerings.
var findingKinds = []struct {
	id       string
	severity severity
}{
	{idMeshEntryMissing, sevError},
	{idMeshFlagOff, sevError},
	{idMeshEntryAfterToken, sevWarning},
	{idGatewayMissing, sevError},
	{idGatewayNotDefault, sevError},
	{idGatewayNoWAN, sevWarning},
	{idGatewayWANLoopback, sevError},
	{idGatewayWANUnspecified, sevError},
	{idGatewayOptionInvalid, sevWarning},
	{idGatewayOptionIneffective, sevInfo},
	{idServerNoGRPCTLSPort, sevWarning},
	{idServerUnusable, sevWarning},
	{idServersOnlyReadReplicas, sevError},
	{idServersNoneUsable, sevError},
	{idTokenPeeringRead, sevError},
	{idTokenPermission, sevWarning},
	{idTokenPolicyInsufficient, sevWarning},
	{idPeeringPending, sevWarning},
	{idPeeringNotActive, sevError},
	{idPeeringAddressSkipped, sevWarning},
	{idPeeringNotGateways, sevWarning},
	{idPeerNotPeered, sevWarning},
}

// findingSeverity and findingOrder index findingKinds by ID.
var findingSeverity, findingOrder = func() (map[string]severity, map[string]int) {
	sev, order := map[string]severity{}, map[string]int{}
	for i, k := range findingKinds {
		sev[k.id], order[k.id] = k.severity, i
	}
	return sev, order
}()

// finding is one problem doctor found: what is wrong, why it matters, and the fix.
type finding struct {
	ID       string   `json:"id"`
	Severity severity `json:"severity"`
	// Cluster is "local" or "peer".
	Cluster string `json:"cluster"`
	// Subject names what the finding is about: a gateway instance, a server node, a
	// peering; empty for the cluster as a whole.
	Subject string `json:"subject,omitempty"`
	What    string `json:"what"`
	Why     string `json:"why"`
	Fix     string `json:"fix"`
}

// newFinding returns a finding with its ID's severity.
func newFinding(id, cluster, subject, what, why, fix string) finding {
	return finding{ID: id, Severity: findingSeverity[id], Cluster: cluster, Subject: subject, What: what, Why: why, Fix: fix}
}

// sortFindings orders findings by cluster (local first), severity, kind and subject.
func sortFindings(fs []finding) {
	slices.SortStableFunc(fs, func(a, b finding) int {
		return cmp.Or(
			cmp.Compare(clusterRank(a.Cluster), clusterRank(b.Cluster)),
			cmp.Compare(a.Severity.rank(), b.Severity.rank()),
			cmp.Compare(findingOrder[a.ID], findingOrder[b.ID]),
			cmp.Compare(a.Subject, b.Subject),
		)
	})
}

func clusterRank(c string) int {
	if c == clusterLocal {
		return 0
	}
	return 1
}

// doctorReport is doctor's output.
type doctorReport struct {
	Clusters []clusterSummary `json:"clusters"`
	Findings []finding        `json:"findings"`
	Summary  map[severity]int `json:"summary"`
}

// clusterSummary says which cluster was checked.
type clusterSummary struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	Datacenter  string `json:"datacenter"`
	TrustDomain string `json:"trust_domain"`
	ServerName  string `json:"server_name"`
}

func newDoctorReport(clusters []*cluster, fs []finding) *doctorReport {
	sortFindings(fs)
	rep := &doctorReport{Findings: fs, Summary: map[severity]int{sevError: 0, sevWarning: 0, sevInfo: 0}}
	if rep.Findings == nil {
		rep.Findings = []finding{}
	}
	for _, cl := range clusters {
		rep.Clusters = append(rep.Clusters, clusterSummary{
			Name: cl.Label, Address: cl.Address, Datacenter: cl.Datacenter,
			TrustDomain: cl.TrustDomain, ServerName: cl.serverName(),
		})
	}
	for _, f := range fs {
		rep.Summary[f.Severity]++
	}
	return rep
}

// fails reports whether a finding of severity at least failOn is present; "never" never
// fails.
func (r *doctorReport) fails(failOn string) bool {
	if failOn == "never" {
		return false
	}
	limit := severity(failOn).rank()
	return slices.ContainsFunc(r.Findings, func(f finding) bool { return f.Severity.rank() <= limit })
}

func (r *doctorReport) write(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	p := &printer{w: w}
	for _, c := range r.Clusters {
		p.printf("Checked %-6s %s at %s (servers %s)\n", c.Name+":", orNone(c.Datacenter), c.Address, orNone(c.ServerName))
	}
	for _, f := range r.Findings {
		subject := ""
		if f.Subject != "" {
			subject = ": " + f.Subject
		}
		p.printf("\n%-7s %s [%s%s]\n", strings.ToUpper(string(f.Severity)), f.ID, f.Cluster, subject)
		p.printf("  what: %s\n  why:  %s\n  fix:  %s\n", indent(f.What), indent(f.Why), indent(f.Fix))
	}
	if len(r.Findings) == 0 {
		p.printf("\nNo findings.\n")
		return p.err
	}
	p.printf("\n%d finding(s): %d error(s), %d warning(s), %d info\n", len(r.Findings),
		r.Summary[sevError], r.Summary[sevWarning], r.Summary[sevInfo])
	return p.err
}

// indent indents the continuation lines of a finding's text.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n        ") }

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
