package peering

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzMembers checks that members finds in any valid JSON object the members the
// tokenizer reads, and never panics on anything else.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "d\"":"x\\", "e":{"f":[]} } `,
		`{"ID":"a","PeerCAPems":["-----BEGIN\nMIIB\\\"\n"],"ModifyIndex":18446744073709551615,"x":null,"y":true,"z":-1.5e3}`,
		"{\"\xff\":\"\xfe\"}", `{"a":1`, `[1]`, `"x"`, `{"a":"\\\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got [][2][]byte
		for name, value := range members(data) { // never panics, valid or not
			got = append(got, [2][]byte{name.of(data), value.of(data)})
		}
		obj := bytes.TrimSpace(data)
		dec := jsontext.NewDecoder(bytes.NewReader(obj), decodeOptions...)
		if len(obj) == 0 || obj[0] != '{' {
			return
		}
		if _, err := dec.ReadValue(); err != nil || dec.InputOffset() != int64(len(obj)) {
			return // not one valid object
		}
		got = got[:0]
		for name, value := range members(obj) {
			got = append(got, [2][]byte{name.of(obj), value.of(obj)})
		}
		dec.Reset(bytes.NewReader(obj), decodeOptions...)
		if _, err := dec.ReadToken(); err != nil {
			t.Fatal(err)
		}
		var want [][2][]byte
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil {
				t.Fatal(err)
			}
			name = bytes.Clone(name)
			value, err := dec.ReadValue()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, [2][]byte{name, bytes.Clone(value)})
		}
		if len(got) != len(want) {
			t.Fatalf("got %d members of %s, want %d", len(got), obj, len(want))
		}
		for k := range want {
			if !bytes.Equal(got[k][0], want[k][0]) || !bytes.Equal(got[k][1], want[k][1]) {
				t.Fatalf("member %d of %s: got %q: %q, want %q: %q", k, obj, got[k][0], got[k][1], want[k][0], want[k][1])
			}
		}
	})
}
