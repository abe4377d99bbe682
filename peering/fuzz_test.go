package peering_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
