package peering_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

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
