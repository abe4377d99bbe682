package meshconfig_test

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func TestNextStep(t *testing.T) {
	var (
		absent       *api.MeshConfigEntry
		off          = meshconfig.New(false)
		noPeering    = &api.MeshConfigEntry{TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true}}
		on           = meshconfig.New(true)
		onDefault    = &api.MeshConfigEntry{Partition: "default", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}
		onOtherPartn = &api.MeshConfigEntry{Partition: "ap1", Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}}
	)
	tests := []struct {
		name   string
		role   meshconfig.Role
		stage  meshconfig.Stage
		entry  *api.MeshConfigEntry
		want   meshconfig.Action
		reason []string // phrases the reason must contain
	}{
		// Accepting cluster: the flag must be set before the token is generated.
		{name: "accepting, no entry, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: absent,
			want: meshconfig.ActionApplyEntry, reason: []string{"no mesh config entry", "before generating the peering token", "servers' addresses"}},
		{name: "accepting, flag off, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: off,
			want: meshconfig.ActionApplyEntry, reason: []string{"does not set", "before generating the peering token"}},
		{name: "accepting, no peering block, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: noPeering,
			want: meshconfig.ActionApplyEntry},
		{name: "accepting, flag on, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: on,
			want: meshconfig.ActionGenerateToken, reason: []string{"WAN", "none is registered", meshconfig.BothClusters}},
		{name: "accepting, flag on in default partition, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: onDefault,
			want: meshconfig.ActionGenerateToken},
		{name: "accepting, flag on in other partition, before token", role: meshconfig.RoleAccepting, stage: meshconfig.StageBefore, entry: onOtherPartn,
			want: meshconfig.ActionApplyEntry, reason: []string{`partition "ap1"`, "default partition"}},
		{name: "accepting, flag off, token generated", role: meshconfig.RoleAccepting, stage: meshconfig.StageAfter, entry: off,
			want: meshconfig.ActionApplyEntry, reason: []string{"token already generated", "new token", "over the peering stream"}},
		{name: "accepting, flag on, token generated", role: meshconfig.RoleAccepting, stage: meshconfig.StageAfter, entry: on,
			want: meshconfig.ActionNone, reason: []string{"generate a new one"}},
		// Dialing cluster: the flag must be set before the connection is established.
		{name: "dialing, no entry, before establishing", role: meshconfig.RoleDialing, stage: meshconfig.StageBefore, entry: absent,
			want: meshconfig.ActionApplyEntry, reason: []string{"before establishing", "directly"}},
		{name: "dialing, flag on, before establishing", role: meshconfig.RoleDialing, stage: meshconfig.StageBefore, entry: on,
			want: meshconfig.ActionEstablish, reason: []string{"LAN", "fall back", meshconfig.BothClusters}},
		{name: "dialing, flag on in other partition, before establishing", role: meshconfig.RoleDialing, stage: meshconfig.StageBefore, entry: onOtherPartn,
			want: meshconfig.ActionApplyEntry},
		{name: "dialing, flag off, established", role: meshconfig.RoleDialing, stage: meshconfig.StageAfter, entry: off,
			want: meshconfig.ActionApplyEntry, reason: []string{"stays on its current direct connection", "(re)connection"}},
		{name: "dialing, flag on, established", role: meshconfig.RoleDialing, stage: meshconfig.StageAfter, entry: on,
			want: meshconfig.ActionNone, reason: []string{"next reconnects"}},
		// Input outside the enums.
		{name: "unknown role", role: meshconfig.Role(0), stage: meshconfig.StageBefore, entry: on,
			want: meshconfig.ActionNone, reason: []string{"unknown role 0"}},
		{name: "unknown stage", role: meshconfig.RoleDialing, stage: meshconfig.Stage(9), entry: on,
			want: meshconfig.ActionNone, reason: []string{"unknown stage 9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := meshconfig.NextStep(tt.role, tt.stage, tt.entry)
			assert.Equal(t, tt.want, got.Action, "got %v, want %v", got.Action, tt.want)
			for _, phrase := range tt.reason {
				assert.Contains(t, got.Reason, phrase, "got reason %q, want it to mention %q", got.Reason, phrase)
			}
			assert.Equal(t, got.Action.String()+": "+got.Reason, got.String())
		})
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "accepting", got: meshconfig.RoleAccepting.String(), want: "accepting"},
		{name: "dialing", got: meshconfig.RoleDialing.String(), want: "dialing"},
		{name: "unknown role", got: meshconfig.Role(7).String(), want: "Role(7)"},
		{name: "before", got: meshconfig.StageBefore.String(), want: "before"},
		{name: "after", got: meshconfig.StageAfter.String(), want: "after"},
		{name: "unknown stage", got: meshconfig.Stage(0).String(), want: "Stage(0)"},
		{name: "none", got: meshconfig.ActionNone.String(), want: "nothing to do"},
		{name: "apply", got: meshconfig.ActionApplyEntry.String(), want: "apply the mesh config entry"},
		{name: "token", got: meshconfig.ActionGenerateToken.String(), want: "generate the peering token"},
		{name: "establish", got: meshconfig.ActionEstablish.String(), want: "establish the peering"},
		{name: "unknown action", got: meshconfig.Action(-1).String(), want: "Action(-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got, "got %q, want %q", tt.got, tt.want)
		})
	}
}
