package peering_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/hashicorp/consul/api"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/tidwall/gjson"
	"github.com/valyala/fastjson"

	"github.com/peeringgw/peeringgw/internal/consulsim"
	"github.com/peeringgw/peeringgw/peering"
)

// The benchmarks of this file compare ways to split the answer of GET /v1/peerings into
// entries and read each entry's identity and ModifyIndex, the step the peerings source
// of NewConsulSources runs on every answer, and ways to decompress it. They are the
// measurements behind the choice of jsontext and of uncompressed answers: see
// NewConsulSources and WithGzip.

// peeringsBody returns the answer of GET /v1/peerings of a consulsim server with n
// peerings, uncompressed.
func peeringsBody(tb testing.TB, n int) []byte {
	tb.Helper()
	sim := consulsim.New(tb, n)
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, sim.URL()+"/v1/peerings", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// identity is what the split reads of an entry.
type identity struct {
	ID, Partition, Name, State string
	ModifyIndex                uint64
}

// splitters split a body into entries and read each entry's identity, calling f with
// it; each reports whether the body is valid JSON (gjson only when asked separately).
var splitters = []struct {
	name  string
	split func(b *testing.B, body []byte, f func(identity))
}{
	{name: "jsontext", split: splitJSONText},
	{name: "gjson", split: splitGJSON},
	{name: "gjson+validate", split: func(b *testing.B, body []byte, f func(identity)) {
		if !gjson.ValidBytes(body) {
			b.Fatal("invalid body")
		}
		splitGJSON(b, body, f)
	}},
	{name: "fastjson", split: splitFastJSON},
	{name: "encoding-json-raw", split: func(b *testing.B, body []byte, f func(identity)) {
		var raws []json.RawMessage
		if err := json.Unmarshal(body, &raws); err != nil {
			b.Fatal(err)
		}
		for range raws {
			f(identity{}) // the split alone: reading identities takes a second pass
		}
	}},
	{name: "encoding-json-identity", split: func(b *testing.B, body []byte, f func(identity)) {
		var ids []identity
		if err := json.Unmarshal(body, &ids); err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			f(id)
		}
	}},
	{name: "consul-api-decode", split: func(b *testing.B, body []byte, f func(identity)) {
		var list []*api.Peering // what consul/api decodes, the path of ConsulSources
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&list); err != nil {
			b.Fatal(err)
		}
		for _, p := range list {
			f(identity{ID: p.ID, Partition: p.Partition, Name: p.Name, State: string(p.State), ModifyIndex: p.ModifyIndex})
		}
	}},
}

var jsontextOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

func splitJSONText(b *testing.B, body []byte, f func(identity)) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontextOptions...)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := dec.ReadToken()
	must(err)
	for dec.PeekKind() != ']' {
		_, err := dec.ReadToken()
		must(err)
		var id identity
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			must(err)
			v, err := dec.ReadValue()
			must(err)
			switch string(name) {
			case `"ID"`:
				id.ID = string(v)
			case `"Name"`:
				id.Name = string(v)
			case `"Partition"`:
				id.Partition = string(v)
			case `"State"`:
				id.State = string(v)
			case `"ModifyIndex"`:
				id.ModifyIndex, _ = strconv.ParseUint(string(v), 10, 64)
			}
		}
		_, err = dec.ReadToken()
		must(err)
		f(id)
	}
}

func splitGJSON(_ *testing.B, body []byte, f func(identity)) {
	gjson.ParseBytes(body).ForEach(func(_, entry gjson.Result) bool {
		var id identity
		entry.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "ID":
				id.ID = v.Raw
			case "Name":
				id.Name = v.Raw
			case "Partition":
				id.Partition = v.Raw
			case "State":
				id.State = v.Raw
			case "ModifyIndex":
				id.ModifyIndex = v.Uint()
			}
			return true
		})
		f(id)
		return true
	})
}

var fastParser fastjson.Parser

func splitFastJSON(b *testing.B, body []byte, f func(identity)) {
	v, err := fastParser.ParseBytes(body)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := v.Array()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		f(identity{
			ID:          string(e.GetStringBytes("ID")),
			Partition:   string(e.GetStringBytes("Partition")),
			Name:        string(e.GetStringBytes("Name")),
			State:       string(e.GetStringBytes("State")),
			ModifyIndex: e.GetUint64("ModifyIndex"),
		})
	}
}

// BenchmarkSplitPeerings compares the splitters on an answer of 10,000 peerings, and
// measures the decoder of NewConsulSources on an answer whose entries all are cached
// (decoder-warm) or none is (decoder-cold).
func BenchmarkSplitPeerings(b *testing.B) {
	body := peeringsBody(b, 10000)
	for _, s := range splitters {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				s.split(b, body, func(identity) { n++ })
				if n != 10000 {
					b.Fatalf("got %d entries, want 10000", n)
				}
			}
		})
	}
	b.Run("decoder-warm", func(b *testing.B) {
		var d peering.PeeringDecoder
		if _, err := d.Decode(body); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decoder-cold", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var d peering.PeeringDecoder
			if _, err := d.Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGunzipPeerings compares decompressing the answer of 10,000 peerings,
// compressed as Consul compresses it (gzip's default level), with compress/gzip and
// github.com/klauspost/compress/gzip; MB/s are of the uncompressed answer.
func BenchmarkGunzipPeerings(b *testing.B) {
	body := peeringsBody(b, 10000)
	var zbuf bytes.Buffer
	zw := stdgzip.NewWriter(&zbuf)
	if _, err := zw.Write(body); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("answer of 10,000 peerings: %d bytes, %d compressed", len(body), zbuf.Len())
	out := make([]byte, len(body))
	read := func(b *testing.B, r io.Reader) {
		if _, err := io.ReadFull(r, out); err != nil {
			b.Fatal(err)
		}
	}
	type resetReader interface {
		io.Reader
		Reset(io.Reader) error
	}
	for _, gz := range []struct {
		name string
		open func(io.Reader) (resetReader, error)
	}{
		{name: "compress-gzip", open: func(r io.Reader) (resetReader, error) { return stdgzip.NewReader(r) }},
		{name: "klauspost-gzip", open: func(r io.Reader) (resetReader, error) { return kgzip.NewReader(r) }},
	} {
		b.Run(gz.name, func(b *testing.B) {
			zr, err := gz.open(bytes.NewReader(zbuf.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := zr.Reset(bytes.NewReader(zbuf.Bytes())); err != nil {
					b.Fatal(err)
				}
				read(b, zr)
			}
		})
	}
	b.Run("identity-copy", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			read(b, bytes.NewReader(body))
		}
	})
}
