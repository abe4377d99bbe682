package meshconfig

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/consul/api"
)

// Role is a cluster's part in a peering.
type Role int

const (
	// RoleAccepting is the cluster that generates the peering token.
	RoleAccepting Role = iota + 1
	// RoleDialing is the cluster that establishes the connection with the token.
	RoleDialing
)

// String returns "accepting" or "dialing".
func (r Role) String() string {
	switch r {
	case RoleAccepting:
		return "accepting"
	case RoleDialing:
		return "dialing"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Stage says whether a cluster has taken its ordering-sensitive step: generating the
// peering token on the accepting cluster, establishing the connection on the dialing one.
type Stage int

const (
	// StageBefore means the step has not been taken: no token generated yet (accepting),
	// or no connection established yet (dialing).
	StageBefore Stage = iota + 1
	// StageAfter means the step has been taken: a token was generated (accepting), or the
	// connection was established (dialing).
	StageAfter
)

// String returns "before" or "after".
func (s Stage) String() string {
	switch s {
	case StageBefore:
		return "before"
	case StageAfter:
		return "after"
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Action is what a host program should do next.
type Action int

const (
	// ActionNone means nothing needs doing.
	ActionNone Action = iota
	// ActionApplyEntry means: apply the mesh config entry with PeerThroughMeshGateways set
	// (for example with Apply(ctx, client, true)) before anything else.
	ActionApplyEntry
	// ActionGenerateToken means the accepting cluster can generate the peering token.
	ActionGenerateToken
	// ActionEstablish means the dialing cluster can establish the connection.
	ActionEstablish
)

// String returns a short name of the action, such as "apply the mesh config entry".
func (a Action) String() string {
	switch a {
	case ActionNone:
		return "nothing to do"
	case ActionApplyEntry:
		return "apply the mesh config entry"
	case ActionGenerateToken:
		return "generate the peering token"
	case ActionEstablish:
		return "establish the peering"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Step is the answer of NextStep.
type Step struct {
	// Action is what to do.
	Action Action
	// Reason explains why, and what happens otherwise.
	Reason string
}

// String returns the action and its reason.
func (s Step) String() string { return s.Action.String() + ": " + s.Reason }

// BothClusters is the rule that completes the ordering rules: each cluster's entry only
// governs its own side of the traffic.
const BothClusters = "to route all peering control plane traffic through mesh gateways, " +
	"both the accepting and the dialing cluster must have the mesh config entry applied"

// NextStep tells a host program what a cluster in role should do next, given how far it
// has got (stage) and its mesh config entry (nil when it has none). It encodes the order
// Consul documents: set PeerThroughMeshGateways on the accepting cluster before generating
// the peering token, and on the dialing cluster before establishing the connection (see
// the package documentation). An entry outside the default admin partition counts as
// absent, because Consul reads the flag only from the default partition's entry. An
// unknown role or stage yields ActionNone with a reason that says so.
func NextStep(role Role, stage Stage, entry *api.MeshConfigEntry) Step {
	if stage != StageBefore && stage != StageAfter {
		return Step{Action: ActionNone, Reason: fmt.Sprintf("unknown stage %d", int(stage))}
	}
	enabled := Enabled(entry) && isDefault(entry.Partition)
	switch role {
	case RoleAccepting:
		return acceptingStep(stage, enabled, entry)
	case RoleDialing:
		return dialingStep(stage, enabled, entry)
	}
	return Step{Action: ActionNone, Reason: fmt.Sprintf("unknown role %d", int(role))}
}

// applyFlag starts the reason of every ActionApplyEntry step.
const applyFlag = "apply the mesh config entry with PeerThroughMeshGateways = true (in the default partition) "

func acceptingStep(stage Stage, enabled bool, entry *api.MeshConfigEntry) Step {
	switch {
	case !enabled && stage == StageBefore:
		return Step{Action: ActionApplyEntry, Reason: notEffective(entry) + applyFlag +
			"before generating the peering token: a token generated without it lists the Consul " +
			"servers' addresses, so the dialing cluster's first connection (the secret handshake) " +
			"goes straight to the servers instead of through this cluster's mesh gateways"}
	case !enabled:
		return Step{Action: ActionApplyEntry, Reason: notEffective(entry) + applyFlag +
			"now: the token already generated lists the Consul servers' addresses. A dialing " +
			"cluster that has not established yet should get a new token generated after the entry " +
			"is applied; an established peering moves to the mesh gateways' addresses, which this " +
			"cluster sends over the peering stream within seconds"}
	case stage == StageBefore:
		return Step{Action: ActionGenerateToken, Reason: "PeerThroughMeshGateways is set, so the token " +
			"lists the WAN addresses of this cluster's mesh gateways in the default partition " +
			"(generation fails while none is registered), and their current addresses keep being " +
			"sent to the dialing cluster over the peering stream; " + BothClusters}
	}
	return Step{Action: ActionNone, Reason: "PeerThroughMeshGateways is set and this cluster sends " +
		"its mesh gateways' addresses over the peering stream. If the entry was applied after the " +
		"token was generated and the dialing cluster has not established yet, that token still " +
		"lists the Consul servers' addresses: generate a new one"}
}

func dialingStep(stage Stage, enabled bool, entry *api.MeshConfigEntry) Step {
	switch {
	case !enabled && stage == StageBefore:
		return Step{Action: ActionApplyEntry, Reason: notEffective(entry) + applyFlag +
			"before establishing the connection: without it this cluster's servers dial the " +
			"accepting cluster's addresses directly instead of going through their local mesh gateways"}
	case !enabled:
		return Step{Action: ActionApplyEntry, Reason: notEffective(entry) + applyFlag +
			"now: an established stream stays on its current direct connection, and this cluster's " +
			"servers dial through their local mesh gateways from their next (re)connection"}
	case stage == StageBefore:
		return Step{Action: ActionEstablish, Reason: "PeerThroughMeshGateways is set, so this cluster's " +
			"servers dial their local mesh gateways' LAN addresses first and fall back to the " +
			"accepting cluster's addresses; " + BothClusters}
	}
	return Step{Action: ActionNone, Reason: "PeerThroughMeshGateways is set and this cluster's servers " +
		"dial the peer through their local mesh gateways; a stream established before the entry " +
		"was applied moves to them when it next reconnects"}
}

// notEffective says why the flag is not in effect, ending with "; ".
func notEffective(entry *api.MeshConfigEntry) string {
	switch {
	case entry == nil:
		return "this cluster has no mesh config entry; "
	case Enabled(entry):
		return fmt.Sprintf("this entry is in partition %q, but Consul reads PeerThroughMeshGateways "+
			"only from the default partition's entry; ", entry.Partition)
	}
	return "the mesh config entry does not set PeerThroughMeshGateways; "
}
