package peering

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/hashicorp/consul/api"
)

// PeeringListError reports an answer of GET /v1/peerings that does not decode: the list
// itself, or one entry of it. The peerings source returns it (wrapped) and keeps what it
// decoded before.
type PeeringListError struct {
	// Entry is the position of the malformed entry in the list, from 0, or -1 when the
	// list itself is malformed.
	Entry int
	// Partition, Name and ID are those of the malformed entry as far as they could be
	// read, else empty.
	Partition, Name, ID string
	// Offset is the byte offset in the answer of the entry, or of the problem in the
	// list.
	Offset int64
	// Err is the decoder's error.
	Err error
}

// Error names the entry and says what is wrong with it.
func (e *PeeringListError) Error() string {
	if e.Entry < 0 {
		return fmt.Sprintf("peering: malformed peering list at byte %d: %v", e.Offset, e.Err)
	}
	what := fmt.Sprintf("peering: malformed peering %d", e.Entry)
	if e.Name != "" {
		what += fmt.Sprintf(" %q in partition %q", e.Name, PartitionOf(e.Partition))
	}
	if e.ID != "" {
		what += fmt.Sprintf(" (ID %s)", e.ID)
	}
	return fmt.Sprintf("%s at byte %d: %v", what, e.Offset, e.Err)
}

// Unwrap returns Err.
func (e *PeeringListError) Unwrap() error { return e.Err }

// peeringDecoder decodes the answers of GET /v1/peerings in proportion to what changed
// since the last answer it decoded.
//
// A streaming tokenizer splits the list into entries as the answer arrives and reads,
// for each, its identity (ID, Partition and Name), ModifyIndex and State. An entry whose identity, ModifyIndex
// and State are those of an entry of the last answer is not decoded again: its value is
// the one decoded then. Comparing bytes would not do, as Consul writes fresh
// StreamStatus times on every read. State is compared because Consul reconciles it
// with the stream's health on every read, without a write. Only the other entries are
// decoded, with package github.com/go-json-experiment/json/v1: encoding/json's
// behaviour (what consul/api decodes with) on the engine of encoding/json/v2, which
// decodes a peering about twice as fast. A reused value's StreamStatus is therefore the
// one of the answer that last decoded it.
//
// An entry is never reused when its identity occurs more than once in an answer, or
// when it has a member name that encoding/json would match to one of those fields but
// that is not spelled exactly so (other case, escapes, non-ASCII): its value then may
// depend on more than those fields.
type peeringDecoder struct {
	mu sync.Mutex
	// entries are the entries of the last answer decoded, by identity; spare is the map
	// the next answer fills, swapped with entries once it decoded.
	entries, spare map[string]*cachedPeering
	// most is the most entries the maps were made for.
	most int
	// last is the list the last answer gave; order the entries of the answer being
	// decoded, in order.
	last  []Peering
	order []*cachedPeering
	// win holds what the tokenizer read of the answer and the decoder still needs;
	// batch collects the entries to decode, which workers decode while the answer is
	// still being read; batches are the batches of the answer being read.
	win     window
	batch   *decodeBatch
	batches []*decodeBatch
	workers sync.WaitGroup
	slots   chan struct{}
	dec     jsontext.Decoder
	key     []byte // scratch for the identity of an entry

	// decoded and reused count the entries decoded and reused, for tests.
	decoded, reused int
}

// cachedPeering is one decoded entry.
type cachedPeering struct {
	key         string // its identity: the raw JSON of ID, Partition and Name
	pos         int    // its position in the last list, or -1
	modifyIndex uint64
	state       string // the raw JSON of State
	reusable    bool
	value       api.Peering
}

// The member names the decoder reads, as they are quoted in the JSON.
var (
	nameID          = []byte(`"ID"`)
	namePartition   = []byte(`"Partition"`)
	nameName        = []byte(`"Name"`)
	nameState       = []byte(`"State"`)
	nameModifyIndex = []byte(`"ModifyIndex"`)
	identityNames   = [][]byte{nameID, namePartition, nameName, nameState, nameModifyIndex}
)

// decodeOptions make the tokenizer accept what encoding/json accepts: repeated member
// names (the last one wins) and invalid UTF-8 (replaced).
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// entryFields are what the decoder reads of an entry before deciding to decode it.
type entryFields struct {
	id, partition, name, state, modifyIndex span // raw JSON values in the entry, empty when absent
	exact                                   bool // no member name that only encoding/json would match
}

// span locates a value in the raw JSON of its entry; the zero span is no value.
type span struct{ lo, hi int }

func (s span) of(raw []byte) []byte {
	if s.hi == 0 {
		return nil
	}
	return raw[s.lo:s.hi]
}

// decode returns the peerings of the answer of GET /v1/peerings that r reads: a JSON
// list, or null. A null entry is skipped. It splits the answer as it arrives, so that
// only the entries to decode are held, and decodes those on other goroutines while it
// reads on when there are many (the whole list, on the first read). On error, the
// entries of the last answer decoded stay cached; an error of r itself is returned in
// a *readError, which tells it from a malformed answer. The values it returns are
// shared with earlier and later calls.
func (d *peeringDecoder) decode(r io.Reader) ([]Peering, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entries == nil {
		d.entries = map[string]*cachedPeering{}
	}
	if d.spare == nil {
		d.spare = make(map[string]*cachedPeering, len(d.entries))
	}
	next := d.spare
	clear(next)
	d.win.reset(r)
	d.dec.Reset(&d.win, decodeOptions...)
	defer d.forget()
	out, err := d.read(next)
	if rerr := d.win.err; rerr != nil {
		return nil, &readError{rerr}
	}
	return out, err
}

// readError is an error of the reader of an answer, as opposed to a malformed answer.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// forget waits for the workers and lets go of the answer: the decoder keeps no
// reference to it or to its reader.
func (d *peeringDecoder) forget() {
	d.workers.Wait()
	clear(d.batches)
	d.batches, d.batch = d.batches[:0], nil
	d.dec.Reset(bytes.NewBuffer(nil))
	d.win.reset(nil)
}

// read reads the list, recording its entries in next.
func (d *peeringDecoder) read(next map[string]*cachedPeering) ([]Peering, error) {
	listErr := func(err error) error {
		return &PeeringListError{Entry: -1, Offset: d.dec.InputOffset(), Err: err}
	}
	switch d.dec.PeekKind() {
	case 'n':
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, listErr(err)
		}
		if err := d.end(); err != nil {
			return nil, listErr(err)
		}
		return d.done(next, []Peering{}), nil
	case '[':
	case 0:
		_, err := d.dec.ReadToken()
		if err == io.EOF || (err == io.ErrUnexpectedEOF && d.dec.InputOffset() == 0) {
			err = errors.New("empty answer")
		}
		return nil, listErr(err)
	default:
		return nil, listErr(fmt.Errorf("a JSON %s, want a list", kindName(d.dec.PeekKind())))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, listErr(err)
	}
	d.order = d.order[:0]
	for i := 0; ; i++ {
		switch d.dec.PeekKind() {
		case ']':
			if _, err := d.dec.ReadToken(); err != nil {
				return nil, listErr(err)
			}
			if err := d.end(); err != nil {
				return nil, listErr(err)
			}
			if err := d.decodePending(); err != nil {
				return nil, err
			}
			return d.done(next, d.list()), nil
		case 'n':
			if _, err := d.dec.ReadToken(); err != nil {
				return nil, listErr(err)
			}
			continue // as encoding/json gives a nil *api.Peering, which the source skips
		}
		c, err := d.entry(i, next)
		if err != nil {
			return nil, err
		}
		d.order = append(d.order, c)
	}
}

// list returns the peerings of d.order. When they are as many as in the last list, it
// copies that list, in one block, and replaces the entries that are not at the same
// place, which is all that changes when one peering does.
func (d *peeringDecoder) list() []Peering {
	var out []Peering
	switch {
	case len(d.order) == 0:
		return []Peering{} // never nil: there are none
	case len(d.order) == len(d.last):
		out = slices.Clone(d.last)
		for i, c := range d.order {
			if c.pos != i {
				out[i] = Peering{Peering: c.value}
			}
		}
	default:
		out = make([]Peering, len(d.order))
		for i, c := range d.order {
			out[i] = Peering{Peering: c.value}
		}
	}
	for i, c := range d.order {
		c.pos = i
	}
	clear(d.order) // keep no entry that the next answer drops
	return out
}

// entry reads the next entry of the list, the i-th, and returns its cached value or one
// to decode, recording it in next.
func (d *peeringDecoder) entry(i int, next map[string]*cachedPeering) (*cachedPeering, error) {
	kind, before := d.dec.PeekKind(), d.dec.InputOffset()
	if kind != '{' {
		err := fmt.Errorf("a JSON %s, want an object", kindName(kind))
		if _, rerr := d.dec.ReadValue(); rerr != nil {
			err = rerr
		}
		return nil, &PeeringListError{Entry: i, Offset: before, Err: err}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, &PeeringListError{Entry: i, Offset: before, Err: err}
	}
	start := d.dec.InputOffset() - 1 // at the '{'
	f, err := d.fields(start)
	if err != nil {
		return nil, &PeeringListError{Entry: i, Offset: start, Err: err}
	}
	if _, err := d.dec.ReadToken(); err != nil { // '}'
		return nil, &PeeringListError{Entry: i, Offset: start, Err: err}
	}
	end := d.dec.InputOffset()
	defer d.win.release(end)
	raw := d.win.bytes(start, end)

	d.key = append(append(append(append(append(d.key[:0], f.id.of(raw)...), 0), f.partition.of(raw)...), 0), f.name.of(raw)...)
	modifyIndex, ok := parseIndex(f.modifyIndex.of(raw))
	state := f.state.of(raw)
	reusable := f.exact && ok
	if _, dup := next[string(d.key)]; dup {
		// Seen in this answer already: decode this one, and neither the next time.
		reusable = false
	} else if c := d.entries[string(d.key)]; reusable && c != nil && c.reusable &&
		c.modifyIndex == modifyIndex && c.state == string(state) {
		next[c.key] = c
		d.reused++
		return c, nil
	}
	c := &cachedPeering{key: string(d.key), pos: -1, modifyIndex: modifyIndex, state: string(state)}
	d.add(pendingEntry{c: c, i: i, start: start, f: f}, raw)
	if prev, dup := next[c.key]; dup {
		if prev.reusable {
			// Not prev itself, which may be cached from the last answer, nor a copy of
			// its value, which a worker may be decoding: a marker that is never reused.
			next[c.key] = &cachedPeering{key: prev.key, pos: -1}
		}
		return c, nil
	}
	c.reusable = reusable
	next[c.key] = c
	return c, nil
}

// pendingEntry is an entry to decode: the i-th of its list, raw from byte start.
type pendingEntry struct {
	c     *cachedPeering
	raw   []byte // in its batch's buf, once decoded
	size  int    // of raw
	i     int
	start int64
	f     entryFields
	err   error
}

// decodeBatch is entries to decode, with a copy of their raw JSON.
type decodeBatch struct {
	entries []pendingEntry
	buf     []byte
}

// decodeEntriesPerWorker is the fewest entries to decode that make one more goroutine
// worth starting; a variable for tests.
var decodeEntriesPerWorker = 256

// batchRoom is the most room a batch makes for its raw JSON before it has it.
const batchRoom = 1 << 20

// add adds an entry to decode, copying its raw JSON, and hands the batch to a worker
// once it holds decodeEntriesPerWorker entries. At most GOMAXPROCS workers run; add
// waits for one to finish beyond that.
func (d *peeringDecoder) add(e pendingEntry, raw []byte) {
	if d.batch == nil {
		d.batch = &decodeBatch{}
		d.batches = append(d.batches, d.batch)
	}
	b := d.batch
	if len(b.entries) == 1 {
		// A second entry to decode: likely many more (a first answer). Make room for a
		// whole batch of entries of this size at once, rather than growing step by step,
		// up to batchRoom: an unusually large entry does not size the batch.
		per := max(len(b.buf), len(raw))
		b.buf = slices.Grow(b.buf, min(per*decodeEntriesPerWorker*5/4, batchRoom))
		b.entries = slices.Grow(b.entries, decodeEntriesPerWorker)
	}
	b.buf = append(b.buf, raw...)
	e.size = len(raw)
	b.entries = append(b.entries, e)
	if len(b.entries) < decodeEntriesPerWorker {
		return
	}
	d.batch = nil
	if n := runtime.GOMAXPROCS(0); d.slots == nil || cap(d.slots) != n {
		d.workers.Wait()
		d.slots = make(chan struct{}, n)
	}
	d.slots <- struct{}{}
	d.workers.Go(func() {
		defer func() { <-d.slots }()
		b.decode()
	})
}

// decode decodes the batch's entries, and lets go of their raw JSON unless one is
// malformed: the answer is held only as long as its entries are being decoded.
func (b *decodeBatch) decode() {
	off, failed := 0, false
	for k := range b.entries {
		e := &b.entries[k]
		e.raw = b.buf[off : off+e.size : off+e.size]
		off += e.size
		e.err = jsonv1.Unmarshal(e.raw, &e.c.value)
		failed = failed || e.err != nil
	}
	if !failed {
		b.buf = nil
		for k := range b.entries {
			b.entries[k].raw = nil
		}
	}
}

// decodePending decodes the last batch, waits for the workers, and returns the error of
// the first malformed entry in list order.
func (d *peeringDecoder) decodePending() error {
	if d.batch != nil {
		d.batch.decode()
		d.batch = nil
	}
	d.workers.Wait()
	n := 0
	for _, b := range d.batches {
		for k := range b.entries {
			if b.entries[k].err != nil {
				return b.entries[k].listError()
			}
		}
		n += len(b.entries)
	}
	d.decoded += n
	return nil
}

// listError describes the entry's decoding error, with what can be read of its
// identity.
func (e *pendingEntry) listError() error {
	out := &PeeringListError{Entry: e.i, Offset: e.start, Err: e.err}
	_ = jsonv1.Unmarshal(e.f.id.of(e.raw), &out.ID)
	_ = jsonv1.Unmarshal(e.f.partition.of(e.raw), &out.Partition)
	_ = jsonv1.Unmarshal(e.f.name.of(e.raw), &out.Name)
	return out
}

// fields reads the members of an entry, from its '{' at byte start, up to its '}',
// locating the values of the identity fields in the entry. Reading each member is
// faster here than reading the whole entry and scanning it again.
func (d *peeringDecoder) fields(start int64) (entryFields, error) {
	f := entryFields{exact: true}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue()
		if err != nil {
			return f, err
		}
		var dst *span
		switch {
		case bytes.Equal(name, nameID):
			dst = &f.id
		case bytes.Equal(name, namePartition):
			dst = &f.partition
		case bytes.Equal(name, nameName):
			dst = &f.name
		case bytes.Equal(name, nameState):
			dst = &f.state
		case bytes.Equal(name, nameModifyIndex):
			dst = &f.modifyIndex
		default:
			f.exact = f.exact && !foldsToIdentity(name)
		}
		v, err := d.dec.ReadValue()
		if err != nil {
			return f, err
		}
		if dst != nil {
			end := int(d.dec.InputOffset() - start)
			*dst = span{end - len(v), end}
		}
	}
	return f, nil
}

// foldsToIdentity reports whether encoding/json might match the quoted member name to
// one of the identity fields although it is not spelled as they are: it matches names
// case-insensitively, with Unicode folding, after unescaping.
func foldsToIdentity(name []byte) bool {
	for _, c := range name {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	for _, id := range identityNames {
		if len(name) == len(id) && bytes.EqualFold(name, id) {
			return true
		}
	}
	return false
}

// kindName names a kind of JSON value.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case '[':
		return "list"
	case '{':
		return "object"
	}
	return "value"
}

// parseIndex parses a raw JSON number holding an index; ok is false for anything else.
func parseIndex(raw []byte) (n uint64, ok bool) {
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// end checks that nothing but white space follows the list.
func (d *peeringDecoder) end() error {
	if _, err := d.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the list")
		}
		return err
	}
	return nil
}

// done makes next the cache of entries and returns out. When the list shrank to a
// quarter of the most it held, the maps are made anew, so that they do not keep the
// memory of a larger list.
func (d *peeringDecoder) done(next map[string]*cachedPeering, out []Peering) []Peering {
	d.last = out
	d.spare, d.entries = d.entries, next
	if len(next) > d.most {
		d.most = len(next)
	}
	if len(next) < d.most/4 {
		d.entries = make(map[string]*cachedPeering, len(next))
		for k, c := range next {
			d.entries[k] = c
		}
		d.spare, d.most = nil, len(next)
	}
	return out
}

// window reads an answer for the tokenizer in large pieces and keeps what it read from
// the start of the entry being read, so that the decoder can copy an entry it decodes:
// memory in proportion to an entry, not to the answer.
type window struct {
	r    io.Reader
	buf  []byte
	base int64 // the offset in the answer of buf[0]
	next int   // the first byte of buf not yet read by the tokenizer
	rerr error // what r returned with the last piece, returned once buf is read
	err  error // the first error of r other than io.EOF
}

const (
	// windowKeep is the most bytes the window keeps before it drops those released.
	windowKeep = 64 << 10
	// windowRead is the least room the window reads into: fewer, larger reads.
	windowRead = 128 << 10
)

func (w *window) reset(r io.Reader) {
	if cap(w.buf) > 4*(windowKeep+windowRead) { // after an entry larger than most
		w.buf = nil
	}
	w.r, w.buf, w.base, w.next, w.rerr, w.err = r, w.buf[:0], 0, 0, nil, nil
}

func (w *window) Read(p []byte) (int, error) {
	if w.next == len(w.buf) {
		if w.rerr != nil {
			return 0, w.rerr
		}
		w.buf = slices.Grow(w.buf, windowRead)
		n, err := w.r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
		if err != nil {
			w.rerr = err
			if err != io.EOF {
				w.err = err
			}
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, w.buf[w.next:])
	w.next += n
	return n, nil
}

// bytes returns the answer from byte from to byte to, which the window holds.
func (w *window) bytes(from, to int64) []byte { return w.buf[from-w.base : to-w.base] }

// release lets go of the answer before byte off.
func (w *window) release(off int64) {
	if drop := int(off - w.base); drop >= windowKeep {
		w.buf = w.buf[:copy(w.buf, w.buf[drop:])]
		w.next -= drop
		w.base = off
	}
}
