package meshconfig

import (
	"errors"
	"maps"
	"slices"

	"github.com/hashicorp/consul/api"
)

// defaultTenancy is the name of the default admin partition and the default namespace.
const defaultTenancy = "default"

// New returns a mesh config entry (Kind "mesh", Name "mesh") whose
// Peering.PeerThroughMeshGateways is enable. Every other field is zero.
func New(enable bool) *api.MeshConfigEntry {
	return &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: enable}}
}

// SetPeerThroughMeshGateways returns a deep copy of e with Peering.PeerThroughMeshGateways
// set to enable. Every other field, including the Raft indexes used for check-and-set, is
// copied unchanged; e itself is not modified. A nil e is treated as an absent entry, so the
// result equals New(enable).
func SetPeerThroughMeshGateways(e *api.MeshConfigEntry, enable bool) *api.MeshConfigEntry {
	if e == nil {
		return New(enable)
	}
	c := clone(e)
	if c.Peering == nil {
		c.Peering = &api.PeeringMeshConfig{}
	}
	c.Peering.PeerThroughMeshGateways = enable
	return c
}

// Enabled reports whether e sets Peering.PeerThroughMeshGateways. A nil e (no entry) and an
// entry without a Peering block report false, as they do in Consul.
func Enabled(e *api.MeshConfigEntry) bool {
	return e != nil && e.Peering != nil && e.Peering.PeerThroughMeshGateways
}

// Validate checks the rules Consul places on the mesh config entry that concern this
// package, and returns every violation joined with errors.Join, each a *ValidationError:
//
//   - the entry lives in the default namespace (Namespace empty or "default"): ErrNamespace;
//   - PeerThroughMeshGateways may only be set in the default admin partition (Partition
//     empty or "default"): ErrPartition.
//
// The partition rule is Consul Enterprise's. Consul's own
// agent/structs/config_entry_mesh.go (*MeshConfigEntry).Validate ends in
// validateEnterpriseMeta, which is empty in Consul CE (config_entry_mesh_oss.go) and holds the
// tenancy checks in Enterprise; the mesh config entry reference states the rule ("You can
// only set the PeerThroughMeshGateways attribute on mesh configuration entries in the default
// partition"), and consul-k8s enforces it in control-plane/api/v1alpha1/mesh_types.go
// ((*PeeringMeshConfig).validate: `"peerThroughMeshGateways" is only valid in the "default"
// partition`). Consul reads the flag only from the default partition
// (agent/consul/peering_backend.go, PeerThroughMeshGateways).
//
// Consul validates the remaining fields (TLS versions, Meta sizes...) when the entry is
// written; Validate does not repeat those checks.
func Validate(e *api.MeshConfigEntry) error {
	if e == nil {
		return ErrNilEntry
	}
	var errs []error
	if !isDefault(e.Namespace) {
		errs = append(errs, &ValidationError{Field: "Namespace", Value: e.Namespace, Err: ErrNamespace})
	}
	if Enabled(e) && !isDefault(e.Partition) {
		errs = append(errs, &ValidationError{Field: "Partition", Value: e.Partition, Err: ErrPartition})
	}
	return errors.Join(errs...)
}

// isDefault reports whether a partition or namespace name means the default one.
func isDefault(name string) bool {
	return name == "" || name == defaultTenancy
}

// clone returns a deep copy of e.
func clone(e *api.MeshConfigEntry) *api.MeshConfigEntry {
	c := *e
	c.Meta = maps.Clone(e.Meta)
	if e.TLS != nil {
		tls := api.MeshTLSConfig{Incoming: cloneTLS(e.TLS.Incoming), Outgoing: cloneTLS(e.TLS.Outgoing)}
		c.TLS = &tls
	}
	if e.HTTP != nil {
		http := *e.HTTP
		if http.Incoming != nil {
			in := *http.Incoming
			if in.RequestNormalization != nil {
				rn := *in.RequestNormalization
				in.RequestNormalization = &rn
			}
			http.Incoming = &in
		}
		c.HTTP = &http
	}
	if e.Peering != nil {
		p := *e.Peering
		c.Peering = &p
	}
	return &c
}

func cloneTLS(d *api.MeshDirectionalTLSConfig) *api.MeshDirectionalTLSConfig {
	if d == nil {
		return nil
	}
	c := *d
	c.CipherSuites = slices.Clone(d.CipherSuites)
	return &c
}
