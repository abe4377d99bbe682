package consulsim

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/internal/load"
)

// GatewayID is the service ID of the mesh gateway the Server has registered, as in
// [load.State].
const GatewayID = load.GatewayID

// Endpoint names an endpoint the Server answers, for [Server.Reads].
type Endpoint string

// The endpoints the Server answers.
const (
	// AgentSelf is the agent's configuration: datacenter and version.
	AgentSelf Endpoint = "/v1/agent/self"
	// CARoots is the Connect CA's roots: the trust domain.
	CARoots Endpoint = "/v1/connect/ca/roots"
	// AgentService is a service instance of the agent, by ID after the prefix.
	AgentService Endpoint = "/v1/agent/service/"
	// MeshConfig is the list of mesh config entries.
	MeshConfig Endpoint = "/v1/config/mesh"
	// Servers is the health of service "consul".
	Servers Endpoint = "/v1/health/service/consul"
	// Peerings is the list of peerings.
	Peerings Endpoint = "/v1/peerings"
	// ServiceDefaults is the list of service-defaults config entries; there are none.
	ServiceDefaults Endpoint = "/v1/config/service-defaults"
)

var endpoints = [...]Endpoint{AgentSelf, CARoots, AgentService, MeshConfig, Servers, Peerings, ServiceDefaults}

// Consul's defaults and limits of blocking queries, and the smallest answer its HTTP
// server compresses (gziphandler.DefaultMinSize).
const (
	defaultWait = 5 * time.Minute
	maxWait     = 10 * time.Minute
	gzipMinSize = 1400
)

// Option configures a [Server].
type Option interface{ apply(*Server) }

type optionFunc func(*Server)

func (f optionFunc) apply(s *Server) { f(s) }

// WithEnterprise makes the Server answer as Consul Enterprise: the agent reports version
// "1.14.8+ent", the peerings list accepts a partition parameter (partition=* lists every
// partition), and peerings name their partition, "default". The default is Community
// Edition, which answers 400 to a partition parameter.
func WithEnterprise() Option {
	return optionFunc(func(s *Server) { s.enterprise = true })
}

// Server is a Consul-like HTTP server holding the State of [load.State] with some
// peerings. Its methods are safe for concurrent use.
type Server struct {
	http       *httptest.Server
	enterprise bool

	mu          sync.RWMutex
	wake        chan struct{} // closed and replaced by every change
	index       uint64        // the last index given to a change, as Consul's Raft index
	self        []byte
	roots       []byte
	rootsIndex  uint64
	gateway     []byte // nil: not registered
	gatewayHash string
	mesh        []byte
	meshIndex   uint64
	servers     []byte
	serverIndex uint64
	peerings    peeringTable

	reads [len(endpoints)]atomic.Int64
	bufs  bufferList // for peerings answers
	gzips sync.Pool  // *gzip.Writer
}

// New starts a Server with peerings 0 to n-1 of [load.State] (n of them), its gateway,
// servers and mesh entry. With tb, the Server is closed when the test ends; without
// (nil), the caller closes it.
func New(tb testing.TB, n int, opts ...Option) *Server {
	st := load.State(0)
	s := &Server{wake: make(chan struct{})}
	for _, o := range opts {
		o.apply(s)
	}
	version := "1.14.8"
	if s.enterprise {
		version += "+ent"
	}
	s.self = mustJSON(map[string]any{"Config": map[string]any{
		"Datacenter": st.Datacenter, "NodeName": "consulsim", "Version": version, "BindAddr": "127.0.0.1",
	}})
	// Peering i was written at index i+1, as in load.Peering; the other parts after.
	s.peerings.init(n, s.enterprise)
	s.index = uint64(n)
	s.roots = mustJSON(map[string]any{
		"ActiveRootID": "consulsim-root",
		"TrustDomain":  st.TrustDomain,
		"Roots":        []map[string]any{{"ID": "consulsim-root", "Name": "Consul CA Primary Cert", "Active": true}},
	})
	s.rootsIndex = s.index + 1
	s.index++
	s.setMeshConfig(st.MeshConfig)
	s.index++
	s.setServers(st.Servers)
	s.index++
	s.setGateway(st.Gateway)
	s.peerings.index = s.index + 1
	s.index++
	s.http = httptest.NewServer(s)
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close shuts the Server down, ending blocked queries.
func (s *Server) Close() { s.http.Close() }

// URL returns the base URL of the Server, "http://127.0.0.1:<port>".
func (s *Server) URL() string { return s.http.URL }

// Config returns a new client configuration for the Server.
func (s *Server) Config() *api.Config {
	return &api.Config{Address: s.http.Listener.Addr().String(), Scheme: "http"}
}

// Client returns a new client of the Server.
func (s *Server) Client() *api.Client {
	c, err := api.NewClient(s.Config())
	if err != nil {
		panic(fmt.Sprintf("consulsim: client of a running server: %v", err)) // only a bad address fails
	}
	return c
}

// Reads returns how many answers the Server has given on endpoint e (on any service ID
// for [AgentService]), errors included.
func (s *Server) Reads(e Endpoint) int64 {
	for i, x := range endpoints {
		if x == e {
			return s.reads[i].Load()
		}
	}
	return 0
}

// Index returns the index of the last change, the X-Consul-Index of an endpoint that
// changed last.
func (s *Server) Index() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.index
}

// SetPeeringAddresses sets the addresses of peering i to [load.PeerAddresses](i, alt),
// as a change of the peer's gateways does in Consul: its ModifyIndex and the list's
// index move. It reports false, changing nothing, when there is no peering i.
func (s *Server) SetPeeringAddresses(i int, alt bool) bool {
	return s.change(func() bool { return s.peerings.setAddresses(i, alt, s.index+1) })
}

// AddPeering adds peering i, shaped as [load.Peering](i, false). It reports false,
// changing nothing, when peering i exists.
func (s *Server) AddPeering(i int) bool {
	return s.change(func() bool { return s.peerings.add(i, s.index+1) })
}

// RemovePeering removes peering i. It reports false when there is no peering i.
func (s *Server) RemovePeering(i int) bool {
	return s.change(func() bool { return s.peerings.remove(i, s.index+1) })
}

// SetPeeringState sets the State Consul reports for peering i, as its stream tracker
// does on every read (ACTIVE while the stream is connected, FAILING after it broke)
// without writing the peering: no index moves and no blocked query wakes. It reports
// false when there is no peering i.
func (s *Server) SetPeeringState(i int, state api.PeeringState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peerings.setState(i, state)
}

// SetMeshConfig sets the mesh config entry; nil deletes it.
func (s *Server) SetMeshConfig(e *api.MeshConfigEntry) {
	s.change(func() bool { s.setMeshConfig(e); return true })
}

// SetServers sets the instances of service "consul", the local servers.
func (s *Server) SetServers(servers []*api.ServiceEntry) {
	s.change(func() bool { s.setServers(servers); return true })
}

// SetGateway registers the gateway service instance (its ID is the one the agent
// endpoint answers to); nil deregisters it, and the endpoint answers 404.
func (s *Server) SetGateway(g *api.AgentService) {
	s.change(func() bool { s.setGateway(g); return true })
}

// change applies f under the lock and, when f reports a change, moves the index and
// wakes the blocked queries.
func (s *Server) change(f func() bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !f() {
		return false
	}
	s.index++
	close(s.wake)
	s.wake = make(chan struct{})
	return true
}

// setMeshConfig renders the list GET /v1/config/mesh answers; s.mu is held.
func (s *Server) setMeshConfig(e *api.MeshConfigEntry) {
	s.meshIndex = s.index + 1
	if e == nil {
		s.mesh = []byte("[]")
		return
	}
	c := *e // its JSON names the kind
	c.CreateIndex, c.ModifyIndex = s.meshIndex, s.meshIndex
	s.mesh = mustJSON([]*api.MeshConfigEntry{&c})
}

// setServers renders the servers' health; s.mu is held.
func (s *Server) setServers(servers []*api.ServiceEntry) {
	s.serverIndex = s.index + 1
	if servers == nil {
		servers = []*api.ServiceEntry{}
	}
	s.servers = mustJSON(servers)
}

// setGateway renders the gateway and its content hash; s.mu is held.
func (s *Server) setGateway(g *api.AgentService) {
	if g == nil {
		s.gateway, s.gatewayHash = nil, ""
		return
	}
	s.gateway = mustJSON(g)
	h := fnv.New64a()
	h.Write(s.gateway)
	s.gatewayHash = strconv.FormatUint(h.Sum64(), 16)
}

// ServeHTTP answers a request as Consul's HTTP API does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.answer(w, r, -1, http.StatusBadRequest, []byte("Invalid wait time"), nil)
			return
		}
		wait = d
	}
	index, err := strconv.ParseUint(q.Get("index"), 10, 64)
	if err != nil && q.Get("index") != "" {
		s.answer(w, r, -1, http.StatusBadRequest, []byte("Invalid index"), nil)
		return
	}
	path := r.URL.Path
	switch {
	case path == string(AgentSelf):
		s.serveStatic(w, r, 0, func() []byte { return s.self })
	case path == string(CARoots):
		s.serveIndexed(w, r, 1, index, wait, func() (uint64, []byte) { return s.rootsIndex, s.roots })
	case strings.HasPrefix(path, string(AgentService)):
		s.serveGateway(w, r, strings.TrimPrefix(path, string(AgentService)), q.Get("hash"), wait)
	case path == string(MeshConfig):
		s.serveIndexed(w, r, 3, index, wait, func() (uint64, []byte) { return s.meshIndex, s.mesh })
	case path == string(Servers):
		s.serveIndexed(w, r, 4, index, wait, func() (uint64, []byte) { return s.serverIndex, s.servers })
	case path == string(Peerings):
		s.servePeerings(w, r, index, wait)
	case path == string(ServiceDefaults):
		s.serveIndexed(w, r, 6, index, wait, func() (uint64, []byte) { return 1, []byte("[]") })
	default:
		s.answer(w, r, -1, http.StatusNotFound, []byte("404 page not found"), nil)
	}
}

// serveStatic answers with data that never blocks.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, e int, body func() []byte) {
	s.mu.RLock()
	b := body()
	s.mu.RUnlock()
	s.answer(w, r, e, http.StatusOK, b, nil)
}

// serveIndexed answers a query that blocks on an index.
func (s *Server) serveIndexed(w http.ResponseWriter, r *http.Request, e int, index uint64, wait time.Duration, current func() (uint64, []byte)) {
	s.await(r, index > 0, wait, func() bool { idx, _ := current(); return idx > index })
	s.mu.RLock()
	idx, body := current()
	s.mu.RUnlock()
	s.answer(w, r, e, http.StatusOK, body, map[string]string{"X-Consul-Index": strconv.FormatUint(idx, 10)})
}

// serveGateway answers GET /v1/agent/service/<id>, blocking on the content hash.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request, id, hash string, wait time.Duration) {
	const e = 2
	if id != GatewayID {
		s.answer(w, r, e, http.StatusNotFound, []byte("unknown service ID: "+id), nil)
		return
	}
	s.await(r, hash != "", wait, func() bool { return s.gatewayHash != hash })
	s.mu.RLock()
	body, h := s.gateway, s.gatewayHash
	s.mu.RUnlock()
	if body == nil {
		s.answer(w, r, e, http.StatusNotFound, []byte("unknown service ID: "+id), nil)
		return
	}
	s.answer(w, r, e, http.StatusOK, body, map[string]string{"X-Consul-ContentHash": h})
}

// servePeerings answers GET /v1/peerings, honouring the partition parameter as Consul
// CE or Enterprise does.
func (s *Server) servePeerings(w http.ResponseWriter, r *http.Request, index uint64, wait time.Duration) {
	const e = 5
	partition := r.URL.Query().Get("partition")
	if partition == "" {
		partition = r.Header.Get("X-Consul-Partition")
	}
	if partition != "" && !s.enterprise {
		s.answer(w, r, e, http.StatusBadRequest,
			[]byte(`Invalid query parameter: "partition" - Partitions are a Consul Enterprise feature`), nil)
		return
	}
	s.await(r, index > 0, wait, func() bool { return s.peerings.index > index })
	bp := s.bufs.get()
	s.mu.RLock()
	idx := s.peerings.index
	every := partition == "" || partition == "*" || partition == "default"
	if every {
		*bp = s.peerings.render((*bp)[:0], time.Now())
	}
	s.mu.RUnlock()
	if !every {
		*bp = append((*bp)[:0], "[]"...)
	}
	s.answer(w, r, e, http.StatusOK, *bp, map[string]string{"X-Consul-Index": strconv.FormatUint(idx, 10)})
	s.bufs.put(bp)
}

// await blocks a query that asks to (block is set) until ready reports true, wait
// elapses or the request ends. ready is called with s.mu read-locked.
func (s *Server) await(r *http.Request, block bool, wait time.Duration, ready func() bool) {
	if !block {
		return
	}
	if wait <= 0 {
		wait = defaultWait
	}
	t := time.NewTimer(min(wait, maxWait))
	defer t.Stop()
	for {
		s.mu.RLock()
		ok, wake := ready(), s.wake
		s.mu.RUnlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-t.C:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// answer writes an answer with Consul's headers, compressed when the request accepts
// gzip and the body is large enough, and counts it for endpoint e (-1: none).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, e, status int, body []byte, headers map[string]string) {
	if e >= 0 {
		defer s.reads[e].Add(1)
	}
	h := w.Header()
	h.Set("X-Consul-KnownLeader", "true")
	h.Set("X-Consul-LastContact", "0")
	for k, v := range headers {
		h.Set(k, v)
	}
	if status == http.StatusOK {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Add("Vary", "Accept-Encoding")
	if len(body) < gzipMinSize || !acceptsGzip(r) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
	} else {
		zw.Reset(w)
	}
	_, _ = zw.Write(body)
	_ = zw.Close()
	s.gzips.Put(zw)
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

// mustJSON encodes v, which is static data that always encodes.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("consulsim: encode %T: %v", v, err))
	}
	return b
}

// bufferList keeps the buffers of answers between reads, as a sync.Pool would not across
// garbage collections: a simulated Consul that allocated megabytes per read would take
// the CPU of the control plane it serves.
type bufferList struct {
	mu   sync.Mutex
	free []*[]byte
}

func (l *bufferList) get() *[]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		b := l.free[n-1]
		l.free = l.free[:n-1]
		return b
	}
	return new([]byte)
}

func (l *bufferList) put(b *[]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.free = append(l.free, b)
}
