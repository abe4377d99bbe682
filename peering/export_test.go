package peering

import (
	"bytes"
	"io"
	"testing/iotest"
)

// PeeringDecoder exposes the decoder of the peering list to the external tests.
type PeeringDecoder struct{ d peeringDecoder }

// Decode decodes an answer of GET /v1/peerings, read in pieces of half the size the
// decoder asks for, so that entries span reads.
func (p *PeeringDecoder) Decode(body []byte) ([]Peering, error) {
	return p.d.decode(iotest.HalfReader(bytes.NewReader(body)))
}

// Counts returns how many entries were decoded and reused so far.
func (p *PeeringDecoder) Counts() (decoded, reused int) { return p.d.counts() }

// DecodeCounts returns how many entries the peerings source of NewConsulSources decoded
// and reused so far.
func DecodeCounts(src Source[[]Peering]) (decoded, reused int) {
	return src.(*consulPeerings).decoder.counts()
}

func (d *peeringDecoder) counts() (decoded, reused int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.decoded, d.reused
}

// CachedPeerings returns how many entries the peerings source of NewConsulSources holds.
func CachedPeerings(src Source[[]Peering]) int {
	d := src.(*consulPeerings).decoder
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// SetDecodeEntriesPerWorker sets the fewest entries per decoding goroutine until the
// test ends.
func SetDecodeEntriesPerWorker(tb interface{ Cleanup(func()) }, n int) {
	old := decodeEntriesPerWorker
	decodeEntriesPerWorker = n
	tb.Cleanup(func() { decodeEntriesPerWorker = old })
}

// DecodeFrom decodes an answer of GET /v1/peerings that r reads.
func (p *PeeringDecoder) DecodeFrom(r io.Reader) ([]Peering, error) { return p.d.decode(r) }

// WindowCap returns the capacity of the decoder's window on the answer.
func (p *PeeringDecoder) WindowCap() int { return cap(p.d.win.buf) }
