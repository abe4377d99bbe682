package xds_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/peeringgw/peeringgw/peering"
)

// FuzzBuild decodes a state capture and builds it: Build must never panic, and its
// output must pass every property the random-State tests check (Envoy's own validation,
// determinism, unique names, IP listeners, no transport sockets, chain order, consistent
// endpoints, valid names).
func FuzzBuild(f *testing.F) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "state.json"))
	for _, name := range cases {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	for range 20 {
		s := randomState(r, true)
		randomVersionInputs(r, s)
		data, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := peering.DecodeState(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := checkBuild(s); err != nil {
			t.Fatal(err)
		}
	})
}
