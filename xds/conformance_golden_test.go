package xds_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// peeringName matches the names of the clusters this library generates.
var peeringName = regexp.MustCompile(`^server\.[^.]+\.peering\.`)

// TestConformanceFromGoldens derives want.json again from Consul's own golden files,
// where the Consul module of the case's version is in the module cache (go mod download
// github.com/hashicorp/consul@v1.22.0): the peering clusters and CLAs, and each
// listener with only its peering and catch-all chains (testdata/conformance/README.md).
// A case with no golden of its name (gen-*, rule-*) is skipped. Hostname peers are
// STRICT_DNS in want.json for every version, the one deliberate difference.
func TestConformanceFromGoldens(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("no module cache: %v", err)
	}
	modcache := strings.TrimSpace(string(out))
	cases, err := filepath.Glob(filepath.Join(conformanceDir, "*", "want.json"))
	require.NoError(t, err)
	checked := 0
	for _, wantPath := range cases {
		dir := filepath.Dir(wantPath)
		v := caseVersion(t, dir)
		name := strings.TrimSuffix(filepath.Base(dir), "-"+v.String()[:strings.LastIndex(v.String(), ".")])
		goldens := filepath.Join(modcache, "github.com", "hashicorp", "consul@v"+v.String(), "agent", "xds", "testdata")
		if _, err := os.Stat(goldens); err != nil {
			continue
		}
		derived, ok := deriveFromGoldens(t, goldens, name)
		if !ok {
			continue
		}
		checked++
		t.Logf("%s: derived from Consul %s goldens of %s", filepath.Base(dir), v, name)
		want, err := os.ReadFile(wantPath)
		require.NoError(t, err)
		if diff := cmp.Diff(decodeJSON(t, derived), decodeJSON(t, want)); diff != "" {
			t.Errorf("%s: want.json differs from Consul %s's goldens of %s (-goldens +want.json):\n%s", dir, v, name, diff)
		}
	}
	if checked == 0 {
		t.Skip("no Consul goldens in the module cache")
	}
}

// deriveFromGoldens reduces Consul's goldens of case name to the resource dump of what
// this library generates; ok is false when Consul has no golden of that name.
func deriveFromGoldens(t *testing.T, dir, name string) (_ []byte, ok bool) {
	t.Helper()
	dump := map[string][]map[string]any{}
	for _, kind := range []string{"clusters", "endpoints", "listeners"} {
		data, err := os.ReadFile(filepath.Join(dir, kind, name+".latest.golden"))
		if os.IsNotExist(err) {
			dump[kind] = []map[string]any{}
			continue
		}
		require.NoError(t, err)
		ok = true
		var resp struct{ Resources []map[string]any }
		require.NoError(t, json.Unmarshal(data, &resp))
		dump[kind] = keepPeering(kind, resp.Resources)
	}
	out, err := json.Marshal(dump)
	require.NoError(t, err)
	return out, ok
}

// keepPeering drops each resource's @type and keeps what this library generates.
func keepPeering(kind string, resources []map[string]any) []map[string]any {
	kept := []map[string]any{}
	for _, r := range resources {
		delete(r, "@type")
		switch kind {
		case "clusters":
			if !peeringName.MatchString(r["name"].(string)) {
				continue
			}
			if r["type"] == "LOGICAL_DNS" {
				r["type"] = "STRICT_DNS"
			}
		case "endpoints":
			if !peeringName.MatchString(r["clusterName"].(string)) {
				continue
			}
		case "listeners":
			r["filterChains"] = peeringChains(r["filterChains"])
		}
		kept = append(kept, r)
	}
	return kept
}

// peeringChains keeps the chains that match a peering server name or nothing.
func peeringChains(chains any) []any {
	var kept []any
	for _, c := range chains.([]any) {
		chain, _ := c.(map[string]any)
		match, _ := chain["filterChainMatch"].(map[string]any)
		names, _ := match["serverNames"].([]any)
		if len(names) == 0 || peeringName.MatchString(names[0].(string)) {
			kept = append(kept, c)
		}
	}
	return kept
}
