package xds_test

import (
	"math/rand/v2"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/xds"
)

// TestVersionsNameContent: a version the Server sends for a Builder's resource names its
// content. Over many random States, one type, name and version always come with the
// same encoding, so the Builder's hashes cover everything translation reads: an Envoy
// that holds a version holds that resource. It fails when a field that reaches a
// resource is left out of its hash.
func TestVersionsNameContent(t *testing.T) {
	seen := map[string]string{} // type, name and version -> encoding
	for seed := range uint64(1500) {
		r := rand.New(rand.NewPCG(seed, 11))
		s := randomState(r, true)
		randomVersionInputs(r, s)
		if s.TrustDomain != "" && r.IntN(2) == 0 {
			s.TrustDomain = "other-td.consul" // names that differ only in the domain
		}
		srv := xds.NewServer(t.Context())
		require.NoError(t, srv.Apply("gw", xds.NewBuilder().Set(s)))
		res, err := srv.Resources("gw")
		require.NoError(t, err)
		versions := srv.Versions("gw")
		for typ, list := range res.ByType() {
			for _, rsc := range list {
				name := cachev3.GetResourceName(rsc)
				key := typ + "\x00" + name + "\x00" + versions[resourcev3.Type(typ)][name]
				enc := encode(t, rsc)
				if prev, ok := seen[key]; ok {
					require.Equal(t, prev, enc, "seed %d: %s %q at version %s has two contents", seed, typ, name, versions[typ][name])
				}
				seen[key] = enc
			}
		}
	}
	require.Greater(t, len(seen), 1000, "got too few distinct resources to tell")
}

func encode(t *testing.T, r types.Resource) string {
	t.Helper()
	b, err := cachev3.MarshalResource(r)
	require.NoError(t, err)
	return string(b)
}
