package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/peeringgw/peeringgw/internal/faultproxy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// shortTimeout bounds a request that is expected to hang.
const shortTimeout = 300 * time.Millisecond

// backend starts an HTTP server that answers "ok" and returns its address.
func backend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok") // a failed write shows as a failed request
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// start starts a proxy to target and closes it when the test ends.
func start(t *testing.T, target string, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return p
}

// get requests http://addr/ on a new connection and returns the status and body.
func get(ctx context.Context, addr string, timeout time.Duration) (int, string, error) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: timeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// modes are the two kinds of proxy.
var modes = []struct {
	name string
	opts []faultproxy.Option
}{
	{name: "tcp"},
	{name: "http", opts: []faultproxy.Option{faultproxy.HTTP()}},
}

// TestFaults checks what a client sees under each fault, through each kind of proxy,
// and that passing again restores normal answers at the same address.
func TestFaults(t *testing.T) {
	target := backend(t)
	tests := []struct {
		name  string
		fault faultproxy.Fault
		// check checks the outcome of a request made under the fault.
		check func(t *testing.T, status int, body string, err error)
	}{
		{name: "pass", fault: faultproxy.Pass, check: wantOK},
		{name: "refuse", fault: faultproxy.Refuse, check: func(t *testing.T, _ int, _ string, err error) {
			require.ErrorIs(t, err, syscall.ECONNREFUSED, "got %v, want connection refused", err)
		}},
		{name: "reset", fault: faultproxy.Reset, check: func(t *testing.T, _ int, _ string, err error) {
			var ue *url.Error
			require.ErrorAs(t, err, &ue, "got %v, want a failed request", err)
			assert.False(t, ue.Timeout(), "got timeout %v, want the connection reset at once", err)
			// A reset seen while reading the answer, or while still writing the request.
			assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE),
				"got %v, want connection reset", err)
		}},
		{name: "hang", fault: faultproxy.Hang, check: func(t *testing.T, _ int, _ string, err error) {
			var ue *url.Error
			require.ErrorAs(t, err, &ue, "got %v, want a failed request", err)
			assert.True(t, ue.Timeout(), "got %v, want a timeout", err)
		}},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				p := start(t, target, m.opts...)
				require.NoError(t, p.Set(tt.fault))
				assert.Equal(t, tt.fault, p.Fault(), "got fault %v, want %v", p.Fault(), tt.fault)
				status, body, err := get(t.Context(), p.Addr(), shortTimeout)
				tt.check(t, status, body, err)

				require.NoError(t, p.Set(faultproxy.Pass))
				status, body, err = get(t.Context(), p.Addr(), 10*time.Second)
				wantOK(t, status, body, err)
			})
		}
	}
}

func wantOK(t *testing.T, status int, body string, err error) {
	t.Helper()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "got status %d, want 200", status)
	assert.Equal(t, "ok", body, "got body %q, want the target's", body)
}

// TestStatus checks that an HTTP proxy answers with the status it is given, and that a
// TCP proxy, which cannot, refuses the fault.
func TestStatus(t *testing.T) {
	target := backend(t)
	tests := []struct {
		name    string
		opts    []faultproxy.Option
		fault   faultproxy.Fault
		wantErr error
	}{
		{name: "http 500", opts: []faultproxy.Option{faultproxy.HTTP()}, fault: faultproxy.Status(500)},
		{name: "http 503", opts: []faultproxy.Option{faultproxy.HTTP()}, fault: faultproxy.Status(503)},
		{name: "tcp", fault: faultproxy.Status(500), wantErr: faultproxy.ErrNotHTTP},
		{name: "http bad code", opts: []faultproxy.Option{faultproxy.HTTP()}, fault: faultproxy.Status(42), wantErr: faultproxy.ErrBadFault},
		{name: "http code too large", opts: []faultproxy.Option{faultproxy.HTTP()}, fault: faultproxy.Status(1000), wantErr: faultproxy.ErrBadFault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, target, tt.opts...)
			err := p.Set(tt.fault)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Equal(t, faultproxy.Pass, p.Fault(), "got fault %v after a refused change, want pass", p.Fault())
				return
			}
			require.NoError(t, err)
			status, body, err := get(t.Context(), p.Addr(), 10*time.Second)
			require.NoError(t, err)
			code := tt.fault.Code()
			assert.Equal(t, code, status, "got status %d, want %d", status, code)
			assert.Contains(t, body, fmt.Sprintf("injected %d", code), "got body %q, want it to say the status is injected", body)
		})
	}
}

// TestLatency checks that a round trip through the proxy takes at least twice the
// latency, and that setting it back to 0 removes it.
func TestLatency(t *testing.T) {
	const latency = 150 * time.Millisecond
	target := backend(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := start(t, target, m.opts...)
			p.SetLatency(latency)
			began := time.Now()
			status, body, err := get(t.Context(), p.Addr(), 10*time.Second)
			took := time.Since(began)
			wantOK(t, status, body, err)
			assert.GreaterOrEqual(t, took, 2*latency, "got a round trip of %s, want at least %s", took, 2*latency)

			p.SetLatency(0)
			status, body, err = get(t.Context(), p.Addr(), 10*time.Second)
			wantOK(t, status, body, err)
		})
	}
}

// TestLeavingHangCuts checks that a request hanging when the fault changes fails then,
// instead of hanging until its own timeout.
func TestLeavingHangCuts(t *testing.T) {
	target := backend(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			p := start(t, target, m.opts...)
			require.NoError(t, p.Set(faultproxy.Hang))
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, _, err := get(ctx, p.Addr(), 0)
				done <- err
			}()
			// The request has reached the proxy: bytes of it for TCP, the request for HTTP.
			require.Eventually(t, func() bool { s := p.Stats(); return s.Received > 0 || s.Requests > 0 },
				10*time.Second, 10*time.Millisecond, "got %+v, want the hanging request received", p.Stats())
			select {
			case err := <-done:
				t.Fatalf("got request done (%v) while hanging, want it to hang", err)
			default:
			}
			require.NoError(t, p.Set(faultproxy.Pass))
			err := <-done
			var ue *url.Error
			require.ErrorAs(t, err, &ue, "got %v, want the request sent while hanging cut", err)
			assert.False(t, ue.Timeout(), "got %v, want the request cut before its deadline", err)
		})
	}
}

// TestRefuseKeepsAddress checks that the proxy listens again on the same address
// after refusing, and that open connections are cut when it starts refusing.
func TestRefuseKeepsAddress(t *testing.T) {
	target := backend(t)
	p := start(t, target, faultproxy.HTTP())
	addr := p.Addr()
	for range 3 {
		require.NoError(t, p.Set(faultproxy.Refuse))
		_, _, err := get(t.Context(), addr, 10*time.Second)
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.NoError(t, p.Set(faultproxy.Pass))
		assert.Equal(t, addr, p.Addr(), "got address %s, want %s kept", p.Addr(), addr)
		status, body, err := get(t.Context(), addr, 10*time.Second)
		wantOK(t, status, body, err)
	}
	assert.Equal(t, 3, p.Stats().Connections, "got %d connections, want 3", p.Stats().Connections)
	assert.Equal(t, 3, p.Stats().Requests, "got %d requests, want 3", p.Stats().Requests)
}

// TestClose checks that a closed proxy refuses connections and changes.
func TestClose(t *testing.T) {
	p, err := faultproxy.New(backend(t))
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, _, err = get(t.Context(), p.Addr(), 10*time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.ErrorIs(t, p.Set(faultproxy.Hang), faultproxy.ErrClosed)
	require.ErrorIs(t, p.Close(), faultproxy.ErrClosed)
}
