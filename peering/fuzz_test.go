package peering_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/peering"
)

const fuzzSecret = "s3cr3t-establishment-marker"

// FuzzDecodeToken checks that token decoding never panics and that the establishment
// secret never shows in an error or in any printed form of the token.
func FuzzDecodeToken(f *testing.F) {
	valid := fmt.Sprintf(`{"CA":["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"],"ServerAddresses":["198.51.100.10:443"],"ServerName":"server.dc1.peering.td.consul","PeerID":"p","EstablishmentSecret":%q,"Remote":{"Datacenter":"dc1"}}`, fuzzSecret)
	for _, s := range []string{
		valid,
		fmt.Sprintf(`{"ServerName":"x","EstablishmentSecret":%q,`, fuzzSecret),
		fmt.Sprintf(`{"ServerName":1,"EstablishmentSecret":%q}`, fuzzSecret),
		fmt.Sprintf(`{"EstablishmentSecret":%q}`, fuzzSecret),
		"", "{}", "null", "[]",
	} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	f.Add("not base64 at all")
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := peering.DecodeToken(token)
		if err != nil {
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		// The secret must not influence any printed form beyond its redaction: printing
		// the token with another non-empty secret gives the same text.
		other := *tok
		if tok.EstablishmentSecret != "" {
			other.EstablishmentSecret = "another secret"
		}
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			if got, want := fmt.Sprintf(format, tok), fmt.Sprintf(format, &other); got != want {
				t.Fatalf("%s of the token depends on the secret:\n%s\n%s", format, got, want)
			}
		}
		got, err := json.Marshal(tok)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(&other)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("JSON of the token depends on the secret:\n%s\n%s", got, want)
		}
		if _, err := tok.Certificates(); err != nil && strings.Contains(err.Error(), fuzzSecret) {
			t.Fatalf("certificate error leaks the secret: %v", err)
		}
	})
}

// FuzzDecodeState checks that any capture either decodes or gives ErrBadState.
func FuzzDecodeState(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "xds", "testdata", "conformance", "*", "state.json"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"Peerings":[{"Name":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := peering.DecodeState(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := peering.WriteCapture(&buf, s); err != nil {
			t.Fatalf("a decoded state does not write back: %v", err)
		}
		if _, err := peering.DecodeState(&buf); err != nil {
			t.Fatalf("a written capture does not decode: %v", err)
		}
	})
}

// FuzzDecodePeerings checks that the decoder of the peering list never panics, that it
// decodes exactly what encoding/json decodes, the way consul/api reads the list, and
// that a malformed answer leaves its cache as it was.
func FuzzDecodePeerings(f *testing.F) {
	entry := `{"ID":"00000001-0000-4000-8000-000000000001","Name":"peer-1","State":"ACTIVE","PeerCAPems":["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"],` +
		`"PeerServerName":"server.dc3.peering.td.consul","PeerServerAddresses":["10.0.1.1:8443"],` +
		`"StreamStatus":{"ImportedServices":["api"],"ExportedServices":null,"LastHeartbeat":"2026-12-04T16:16:13.036421353Z","LastReceive":"2026-12-04T16:16:13.036421353Z","LastSend":"0001-01-01T00:00:00Z"},` +
		`"CreateIndex":2,"ModifyIndex":2,"Remote":{"Partition":"","Datacenter":"dc3"}}`
	for _, s := range []string{
		"[" + entry + "]",
		"[" + entry + "," + strings.Replace(entry, `"ModifyIndex":2`, `"ModifyIndex":3`, 1) + "]",
		"[" + entry + "," + entry + "]",
		`[{"ID":"a","Partition":"p","Name":"n","ModifyIndex":1,"modifyIndex":2,"Meta":{"k":"v"},"DeletedAt":"2026-01-01T00:00:00Z"}]`,
		`[null, {"Name":"\u0070eer"}, {"Name":"x","ModifyIndex":18446744073709551615}]`,
		`null`, `[]`, `[1]`, `{}`, ``, `[{"Name":"x"}] x`,
	} {
		f.Add([]byte(s))
	}
	peering.SetDecodeEntriesPerWorker(f, 1) // lists of two entries or more decode on two goroutines
	f.Fuzz(func(t *testing.T, data []byte) {
		var wantList []*api.Peering
		wantErr := json.Unmarshal(data, &wantList)
		want := []peering.Peering{}
		for _, p := range wantList {
			if p != nil {
				want = append(want, peering.Peering{Peering: *p})
			}
		}

		var d peering.PeeringDecoder
		got, err := d.Decode(data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("got error %v, encoding/json's is %v", err, wantErr)
		}
		if err != nil {
			if _, ok := errors.AsType[*peering.PeeringListError](err); !ok {
				t.Fatalf("got error %T %v, want a *PeeringListError", err, err)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, encoding/json decodes %+v", got, want)
		}
		// Again, from the cache.
		before, _ := d.Counts()
		again, err := d.Decode(data)
		if err != nil || !reflect.DeepEqual(again, want) {
			t.Fatalf("got %+v, %v from the cache, want %+v", again, err, want)
		}
		after, _ := d.Counts()
		warm := after - before // entries never reused: duplicates, names encoding/json folds
		// A malformed answer leaves the cache as it was.
		if _, err := d.Decode(append(bytes.Clone(data), '[')); err == nil {
			t.Fatal("got no error for a malformed answer")
		}
		before, _ = d.Counts()
		again, err = d.Decode(data)
		if err != nil || !reflect.DeepEqual(again, want) {
			t.Fatalf("got %+v, %v after a malformed answer, want %+v", again, err, want)
		}
		if after, _ := d.Counts(); after-before != warm {
			t.Fatalf("got %d entries decoded after a malformed answer, want %d: the cache kept", after-before, warm)
		}
	})
}

// countDuplicates returns how many peerings share their identity with an earlier one:
// the decoder decodes those on every answer.
func countDuplicates(ps []peering.Peering) int {
	seen := map[[3]string]bool{}
	n := 0
	for _, p := range ps {
		k := [3]string{p.ID, p.Partition, p.Name}
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}
