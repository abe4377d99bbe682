package peering_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/peering"
)

// TestPeeringDecoderParallel: a list decoded on several goroutines gives what
// encoding/json gives, and the first malformed entry in list order is the one reported.
func TestPeeringDecoderParallel(t *testing.T) {
	peering.SetDecodeEntriesPerWorker(t, 2)
	entries := make([]string, 40)
	var want []peering.Peering
	for i := range entries {
		p := api.Peering{ID: fmt.Sprint(i), Name: fmt.Sprintf("p%d", i), ModifyIndex: uint64(i + 1),
			PeerServerAddresses: []string{fmt.Sprintf("10.0.0.%d:8443", i)}}
		b, err := json.Marshal(p)
		require.NoError(t, err)
		entries[i] = string(b)
		want = append(want, peering.Peering{Peering: p})
	}
	var d peering.PeeringDecoder
	got, err := d.Decode([]byte("[" + strings.Join(entries, ",") + "]"))
	require.NoError(t, err)
	require.Equal(t, want, got)

	entries[29] = `{"ID":"29","Name":"p29","ModifyIndex":"x"}`
	entries[7] = `{"ID":"7","Name":"p7","ModifyIndex":99,"CreateIndex":"y"}`
	var fresh peering.PeeringDecoder
	_, err = fresh.Decode([]byte("[" + strings.Join(entries, ",") + "]"))
	var le *peering.PeeringListError
	require.True(t, errors.As(err, &le), "got %v, want a PeeringListError", err)
	require.Equal(t, 7, le.Entry, "got entry %d reported, want the first malformed one", le.Entry)
	require.Equal(t, "p7", le.Name)
}

// chunkReader reads r in pieces of random sizes, from one byte to 8 KiB.
type chunkReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), 1+c.rnd.IntN(8<<10))])
}

// TestPeeringDecoderLargeAnswerInPieces: an answer of several MiB that arrives in pieces
// of random sizes decodes as encoding/json decodes it, although the decoder keeps only a
// window of it; a second answer with one entry changed decodes that entry alone.
func TestPeeringDecoderLargeAnswerInPieces(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\n" + strings.Repeat("MIIBszCCAVmgAwIBAgIRAJ\n", 40) + "-----END CERTIFICATE-----\n"
	list := make([]*api.Peering, 5000)
	for i := range list {
		list[i] = &api.Peering{ID: fmt.Sprint(i), Name: fmt.Sprintf("p%d", i), ModifyIndex: uint64(i + 1),
			PeerCAPems: []string{pem}, PeerServerAddresses: []string{fmt.Sprintf("10.0.%d.%d:8443", i/250, i%250)}}
	}
	decode := func(d *peering.PeeringDecoder, seed uint64) []peering.Peering {
		t.Helper()
		body, err := json.Marshal(list)
		require.NoError(t, err)
		require.Greater(t, len(body), 4<<20)
		var want []*api.Peering
		require.NoError(t, json.Unmarshal(body, &want))
		got, err := d.DecodeFrom(&chunkReader{r: bytes.NewReader(body), rnd: rand.New(rand.NewPCG(seed, 1))})
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			require.Equal(t, *want[i], got[i].Peering, "entry %d", i)
		}
		require.Less(t, d.WindowCap(), 512<<10, "got a window of %d bytes on an answer of %d", d.WindowCap(), len(body))
		return got
	}
	var d peering.PeeringDecoder
	decode(&d, 1)
	list[4321].ModifyIndex, list[4321].PeerServerAddresses = 9999, []string{"10.9.9.9:8443"}
	before, _ := d.Counts()
	got := decode(&d, 2)
	after, _ := d.Counts()
	require.Equal(t, 1, after-before, "got %d entries decoded, want the changed one", after-before)
	require.Equal(t, []string{"10.9.9.9:8443"}, got[4321].PeerServerAddresses)
}

// TestPeeringDecoderReadError: an error of the reader is returned as it is, not as a
// malformed answer, and leaves the cache as it was.
func TestPeeringDecoderReadError(t *testing.T) {
	body := []byte(`[{"ID":"a","Name":"p1","ModifyIndex":5},{"ID":"b","Name":"p2","ModifyIndex":6}]`)
	var d peering.PeeringDecoder
	_, err := d.Decode(body)
	require.NoError(t, err)
	broken := errors.New("connection reset")
	_, err = d.DecodeFrom(io.MultiReader(bytes.NewReader(body[:30]), iotest.ErrReader(broken)))
	require.ErrorIs(t, err, broken)
	_, isList := errors.AsType[*peering.PeeringListError](err)
	require.False(t, isList, "got %v, want the reader's error, not a malformed answer", err)
	before, _ := d.Counts()
	_, err = d.Decode(body)
	require.NoError(t, err)
	after, _ := d.Counts()
	require.Equal(t, before, after, "got %d entries decoded after a read error, want the cache kept", after-before)
}
