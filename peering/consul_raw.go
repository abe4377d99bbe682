package peering

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"
)

// WithGzip sets whether the sources of [NewConsulSources] ask Consul to compress its
// answers with gzip. The default is false: the sources ask for uncompressed answers
// (Accept-Encoding: identity), because a control plane usually talks to its local
// agent, where compressing and decompressing only cost CPU on both sides: on two cores,
// a read of 10,000 peerings takes several times longer with gzip than without, most of
// it in Consul's compression and the sources' decompression. Compression pays across a
// slow network: the peering list shrinks to between a tenth of its size and about a
// half (a peering's CA certificate does not compress). Answers to the sources' other
// requests are small. WithGzip has no effect on [ConsulSources], whose client's
// transport decides (Go's asks for gzip by default).
func WithGzip(on bool) ConsulOption {
	return consulOptionFunc(func(c *consul) { c.gzip = on })
}

// NewConsulSources returns sources that read every part of a State from the Consul
// agent that cfg describes, as [ConsulSources] does, for the mesh gateway service
// instance with ID gatewayID. cfg is what api.NewClient takes, with the same defaults
// (the CONSUL_HTTP_* environment, a unix:// address, TLS, a token file); it is not
// modified. A *api.Client is not enough: the sources make their own client, whose
// transport hands them the raw answer of GET /v1/peerings, so that they read the
// peerings in proportion to what changed. Every request still goes through consul/api,
// with its query parameters, headers and errors. With cfg.HttpClient set, its Transport
// (http.DefaultTransport when nil) carries the requests.
//
// The peerings source splits the answer into entries as it arrives, holding only the
// entry being read (not the whole answer), and decodes only the entries that are new or
// whose ModifyIndex or State changed since its last answer; the others are the values
// it returned before. Consul writes fresh StreamStatus times into every
// entry on every read, so the StreamStatus of an entry that did not change is the one
// of the answer that last decoded it. A malformed answer is an error wrapping a
// [*PeeringListError] naming the entry, and leaves what was decoded before in place.
// The values returned are shared between reads and must not be modified (see
// [Source]).
//
// Errors wrap [ErrBadConfig] when cfg is nil or api.NewClient refuses it.
func NewConsulSources(cfg *api.Config, gatewayID string, opts ...ConsulOption) (Sources, error) {
	if cfg == nil {
		return Sources{}, fmt.Errorf("%w: nil Consul configuration", ErrBadConfig)
	}
	c := newConsul(nil, gatewayID, opts)
	client, err := rawClient(cfg, c.gzip)
	if err != nil {
		return Sources{}, fmt.Errorf("%w: consul client: %w", ErrBadConfig, err)
	}
	c.client = client
	s := c.sources()
	s.Peerings = &consulPeerings{consul: c, decoder: &peeringDecoder{}}
	return s, nil
}

// rawClient returns a client for cfg whose transport captures the answers of the
// requests that ask for it (see withRawBody). It lets api.NewClient settle the
// configuration first (defaults, environment, a unix socket's transport, TLS), then
// wraps the transport of the http.Client it chose.
func rawClient(cfg *api.Config, gzip bool) (*api.Client, error) {
	base := *cfg
	if _, err := api.NewClient(&base); err != nil {
		return nil, err
	}
	hc := *base.HttpClient
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &rawTransport{next: next, gzip: gzip}
	wrapped := base // its address, scheme and token are settled: NewClient keeps them
	wrapped.HttpClient = &hc
	return api.NewClient(&wrapped)
}

// rawBody decodes the body of a successful answer to a request whose context carries
// it, as the answer arrives, with decoder; the result is in list and err.
type rawBody struct {
	decoder *peeringDecoder
	list    []Peering
	err     error // a malformed answer
}

type rawBodyKey struct{}

// withRawBody returns a context whose requests hand their answer's body to raw.
func withRawBody(ctx context.Context, raw *rawBody) context.Context {
	return context.WithValue(ctx, rawBodyKey{}, raw)
}

// nullBody is what the api client decodes instead of a captured body.
const nullBody = "null"

// rawTransport sets the encoding a request accepts and captures the body of the
// answers that a request's context asks for: it decodes them as they arrive,
// decompressed, and gives the api client "null" to decode instead, so that it decodes
// nothing. An error reading the body fails the request; a malformed answer is left in
// the rawBody, for the caller to report.
type rawTransport struct {
	next http.RoundTripper
	gzip bool
	// readers are reused gzip readers.
	readers sync.Pool
}

// RoundTrip sends req and captures the answer when req's context carries a rawBody.
func (t *rawTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	raw, _ := req.Context().Value(rawBodyKey{}).(*rawBody)
	if req.Header.Get("Accept-Encoding") == "" && (raw != nil || !t.gzip) {
		enc := "identity"
		if t.gzip {
			enc = "gzip"
		}
		// A RoundTripper must not change the request it is given.
		req = req.Clone(req.Context())
		req.Header.Set("Accept-Encoding", enc)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || raw == nil {
		return resp, err
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && !resp.Uncompressed {
		if err := t.gunzip(resp); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode != http.StatusOK {
		return resp, nil // the api client reads the error
	}
	raw.list, raw.err = raw.decoder.decode(resp.Body)
	var rerr *readError
	if errors.As(raw.err, &rerr) {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("read the answer: %w", rerr.err)
	}
	if err := resp.Body.Close(); err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	resp.Body = io.NopCloser(strings.NewReader(nullBody))
	resp.ContentLength = int64(len(nullBody))
	return resp, nil
}

// gunzip replaces the body of resp by its decompression.
func (t *rawTransport) gunzip(resp *http.Response) error {
	zr, _ := t.readers.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(resp.Body)
	} else {
		err = zr.Reset(resp.Body)
	}
	if err != nil {
		_ = resp.Body.Close()
		return fmt.Errorf("decompress the answer: %w", err)
	}
	resp.Body = &gzipBody{Reader: zr, body: resp.Body, pool: &t.readers}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

// gzipBody is a decompressed body; Close closes the compressed one and gives the
// reader back to its pool.
type gzipBody struct {
	*gzip.Reader
	body io.ReadCloser
	pool *sync.Pool
}

func (b *gzipBody) Close() error {
	err := b.body.Close()
	if b.pool != nil {
		b.pool.Put(b.Reader)
		b.pool = nil
	}
	return err
}
