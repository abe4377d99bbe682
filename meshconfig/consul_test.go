package meshconfig_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peeringgw/peeringgw/meshconfig"
)

// fakeConsul serves the two endpoints Read and Apply use, with Consul's check-and-set
// semantics, so that their error paths can be tested without a Consul agent. The tests
// against a real agent are in consul_integration_test.go.
type fakeConsul struct {
	t         *testing.T
	mu        sync.Mutex
	entry     *api.MeshConfigEntry // nil when absent
	index     uint64
	getStatus int  // when set, GET answers with this status
	putStatus int  // when set, PUT answers with this status
	conflict  bool // when set, every check-and-set write loses
	gets      int
	puts      int
	casIndex  []string // the cas parameter of each PUT
}

func (f *fakeConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/config/mesh/mesh":
		f.get(w)
	case r.Method == http.MethodPut && r.URL.Path == "/v1/config":
		f.put(w, r)
	default:
		http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusTeapot)
	}
}

func (f *fakeConsul) get(w http.ResponseWriter) {
	f.gets++
	switch {
	case f.getStatus != 0:
		http.Error(w, "forced failure", f.getStatus)
	case f.entry == nil:
		http.Error(w, `Config entry not found for "mesh" / "mesh"`, http.StatusNotFound)
	default:
		if err := json.NewEncoder(w).Encode(f.entry); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

func (f *fakeConsul) put(w http.ResponseWriter, r *http.Request) {
	f.puts++
	f.casIndex = append(f.casIndex, r.URL.Query().Get("cas"))
	if f.putStatus != 0 {
		http.Error(w, "Permission denied: token lacks permission 'mesh:write'", f.putStatus)
		return
	}
	var e api.MeshConfigEntry
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.conflict || r.URL.Query().Get("cas") != strconv.FormatUint(f.index, 10) {
		f.reply(w, "false")
		return
	}
	f.index++
	e.CreateIndex, e.ModifyIndex = f.index, f.index
	f.entry = &e
	f.reply(w, "true")
}

func (f *fakeConsul) reply(w http.ResponseWriter, body string) {
	if _, err := io.WriteString(w, body); err != nil {
		f.t.Errorf("fake consul: write reply: %v", err)
	}
}

func (f *fakeConsul) client(t *testing.T) *api.Client {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := api.NewClient(&api.Config{Address: srv.Listener.Addr().String(), Scheme: "http"})
	require.NoError(t, err)
	return c
}

func TestApplyFake(t *testing.T) {
	existing := func() *api.MeshConfigEntry {
		e := meshconfig.New(false)
		e.TransparentProxy.MeshDestinationsOnly = true
		e.ModifyIndex = 4
		return e
	}
	tests := []struct {
		name     string
		fake     *fakeConsul
		enable   bool
		opts     []meshconfig.Option
		want     *api.MeshConfigEntry // entry returned; nil with wantErr or no entry
		wantErr  error
		wantPuts int
		wantCAS  []string
	}{
		{name: "creates when absent", fake: &fakeConsul{}, enable: true,
			want:     &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}, CreateIndex: 1, ModifyIndex: 1},
			wantPuts: 1, wantCAS: []string{"0"}},
		{name: "updates with the index read", fake: &fakeConsul{entry: existing(), index: 4}, enable: true,
			want: &api.MeshConfigEntry{
				TransparentProxy: api.TransparentProxyMeshConfig{MeshDestinationsOnly: true},
				Peering:          &api.PeeringMeshConfig{PeerThroughMeshGateways: true}, CreateIndex: 5, ModifyIndex: 5},
			wantPuts: 1, wantCAS: []string{"4"}},
		{name: "nothing to write when set", fake: &fakeConsul{entry: existing(), index: 4}, enable: false,
			want: existing(), wantPuts: 0},
		{name: "nothing to write when absent and disabling", fake: &fakeConsul{}, enable: false,
			want: nil, wantPuts: 0},
		{name: "conflict after the attempts", fake: &fakeConsul{conflict: true}, enable: true,
			opts: []meshconfig.Option{meshconfig.WithMaxAttempts(3)}, wantErr: meshconfig.ErrConflict,
			wantPuts: 3, wantCAS: []string{"0", "0", "0"}},
		{name: "at least one attempt", fake: &fakeConsul{conflict: true}, enable: true,
			opts: []meshconfig.Option{meshconfig.WithMaxAttempts(0)}, wantErr: meshconfig.ErrConflict,
			wantPuts: 1, wantCAS: []string{"0"}},
		{name: "default attempts", fake: &fakeConsul{conflict: true}, enable: true, wantErr: meshconfig.ErrConflict,
			wantPuts: meshconfig.DefaultMaxAttempts, wantCAS: []string{"0", "0", "0", "0", "0"}},
		{name: "permission denied", fake: &fakeConsul{putStatus: http.StatusForbidden}, enable: true,
			wantErr: meshconfig.ErrPermissionDenied, wantPuts: 1, wantCAS: []string{"0"}},
		{name: "read fails", fake: &fakeConsul{getStatus: http.StatusInternalServerError}, enable: true,
			wantErr: api.StatusError{Code: http.StatusInternalServerError, Body: "forced failure"}},
		{name: "flag refused outside the default partition", fake: &fakeConsul{entry: &api.MeshConfigEntry{Partition: "ap1", ModifyIndex: 2}, index: 2},
			enable: true, wantErr: meshconfig.ErrPartition, wantPuts: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := meshconfig.Apply(context.Background(), tt.fake.client(t), tt.enable, tt.opts...)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got, "got %+v, want %+v", got, tt.want)
			}
			assert.Equal(t, tt.wantPuts, tt.fake.puts, "got %d writes, want %d", tt.fake.puts, tt.wantPuts)
			assert.Equal(t, tt.wantCAS, tt.fake.casIndex, "got cas %v, want %v", tt.fake.casIndex, tt.wantCAS)
		})
	}
}

func TestApplyPermissionDeniedKeepsStatus(t *testing.T) {
	fake := &fakeConsul{putStatus: http.StatusForbidden}
	_, err := meshconfig.Apply(context.Background(), fake.client(t), true)
	require.ErrorIs(t, err, meshconfig.ErrPermissionDenied)
	var status api.StatusError
	require.ErrorAs(t, err, &status)
	assert.Equal(t, http.StatusForbidden, status.Code)
}

func TestApplyCanceled(t *testing.T) {
	fake := &fakeConsul{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := meshconfig.Apply(ctx, fake.client(t), true)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, fake.gets+fake.puts, "got %d requests, want none", fake.gets+fake.puts)
}

// TestApplyCanceledBetweenAttempts cancels the context while a write is being lost, and
// checks that Apply stops instead of trying again.
func TestApplyCanceledBetweenAttempts(t *testing.T) {
	fake := &fakeConsul{conflict: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := meshconfig.Apply(ctx, fake.client(t), true, meshconfig.WithBeforeWrite(func(int) { cancel() }))
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, meshconfig.ErrConflict), "got %v, want no ErrConflict", err)
	assert.LessOrEqual(t, fake.puts, 1, "got %d writes, want at most 1", fake.puts)
}

func TestReadFake(t *testing.T) {
	tests := []struct {
		name    string
		fake    *fakeConsul
		want    *api.MeshConfigEntry
		wantErr error
	}{
		{name: "absent", fake: &fakeConsul{}, want: nil},
		{name: "present", fake: &fakeConsul{entry: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}, ModifyIndex: 3}},
			want: &api.MeshConfigEntry{Peering: &api.PeeringMeshConfig{PeerThroughMeshGateways: true}, ModifyIndex: 3}},
		{name: "forbidden", fake: &fakeConsul{getStatus: http.StatusForbidden}, wantErr: meshconfig.ErrPermissionDenied},
		{name: "server error", fake: &fakeConsul{getStatus: http.StatusInternalServerError},
			wantErr: api.StatusError{Code: http.StatusInternalServerError, Body: "forced failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := meshconfig.Read(context.Background(), tt.fake.client(t))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "got %+v, want %+v", got, tt.want)
		})
	}
}

func TestNilClient(t *testing.T) {
	_, err := meshconfig.Read(context.Background(), nil)
	require.ErrorIs(t, err, meshconfig.ErrNilClient)
	_, err = meshconfig.Apply(context.Background(), nil, true)
	require.ErrorIs(t, err, meshconfig.ErrNilClient)
}
