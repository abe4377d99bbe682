package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
)

// Snapshot returns the resources as a go-control-plane snapshot, for hosts that serve
// them from their own SnapshotCache. Its version is a hash of the content, so equal
// resources always give the same version and a cache never re-sends them.
func (r *Resources) Snapshot() (*cachev3.Snapshot, error) {
	version, err := r.Version()
	if err != nil {
		return nil, err
	}
	snap, err := cachev3.NewSnapshot(version, r.ByType())
	if err != nil {
		return nil, fmt.Errorf("xds: snapshot: %w", err)
	}
	return snap, nil
}

// Version returns a hash of the resources' deterministic wire form.
func (r *Resources) Version() (string, error) {
	h := sha256.New()
	opts := proto.MarshalOptions{Deterministic: true}
	var buf []byte
	add := func(m proto.Message) error {
		var err error
		buf, err = opts.MarshalAppend(buf[:0], m)
		if err != nil {
			return fmt.Errorf("xds: version: %w", err)
		}
		fmt.Fprintf(h, "%d:", len(buf))
		h.Write(buf)
		return nil
	}
	for _, c := range r.Clusters {
		if err := add(c); err != nil {
			return "", err
		}
	}
	h.Write([]byte{0})
	for _, e := range r.Endpoints {
		if err := add(e); err != nil {
			return "", err
		}
	}
	h.Write([]byte{0})
	for _, l := range r.Listeners {
		if err := add(l); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
