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
// A streaming tokenizer splits the list into entries and reads, for each, its identity
// (ID, Partition and Name), ModifyIndex and State. An entry whose identity, ModifyIndex
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
	// pending are the entries of the answer being read that need decoding.
	pending []pendingEntry
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
	id, partition, name, state, modifyIndex []byte // raw JSON values, nil when absent
	exact                                   bool   // no member name that only encoding/json would match
}

// decode returns the peerings of body, the answer of GET /v1/peerings: a JSON list, or
// null. A null entry is skipped. On error, the entries of the last answer decoded stay
// cached. The values it returns are shared with earlier and later calls.
func (d *peeringDecoder) decode(body []byte) ([]Peering, error) {
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
	d.dec.Reset(bytes.NewBuffer(body), decodeOptions...)
	defer d.dec.Reset(bytes.NewBuffer(nil)) // keep no reference to body

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
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, listErr(errors.New("empty answer"))
		}
		_, err := d.dec.ReadToken()
		return nil, listErr(err)
	default:
		return nil, listErr(fmt.Errorf("a JSON %s, want a list", kindName(d.dec.PeekKind())))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, listErr(err)
	}
	d.order = d.order[:0]
	defer d.clearPending()
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
		c, err := d.entry(body, i, next)
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

// entry reads the next entry of the list, the i-th, and returns its cached or decoded
// value, recording it in next.
func (d *peeringDecoder) entry(body []byte, i int, next map[string]*cachedPeering) (*cachedPeering, error) {
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
	f, err := d.fields(body)
	if err != nil {
		return nil, &PeeringListError{Entry: i, Offset: start, Err: err}
	}
	if _, err := d.dec.ReadToken(); err != nil { // '}'
		return nil, &PeeringListError{Entry: i, Offset: start, Err: err}
	}
	raw := body[start:d.dec.InputOffset()]

	d.key = append(append(append(append(append(d.key[:0], f.id...), 0), f.partition...), 0), f.name...)
	modifyIndex, ok := parseIndex(f.modifyIndex)
	reusable := f.exact && ok
	if _, dup := next[string(d.key)]; dup {
		// Seen in this answer already: decode this one, and neither the next time.
		reusable = false
	} else if c := d.entries[string(d.key)]; reusable && c != nil && c.reusable &&
		c.modifyIndex == modifyIndex && c.state == string(f.state) {
		next[c.key] = c
		d.reused++
		return c, nil
	}
	c := &cachedPeering{key: string(d.key), pos: -1, modifyIndex: modifyIndex, state: string(f.state)}
	d.pending = append(d.pending, pendingEntry{c: c, raw: raw, i: i, start: start, f: f})
	if prev, dup := next[c.key]; dup {
		if prev.reusable { // a copy: prev may be cached from the last answer
			unusable := *prev
			unusable.reusable = false
			next[c.key] = &unusable
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
	raw   []byte
	i     int
	start int64
	f     entryFields
	err   error
}

// decodeEntriesPerWorker is the fewest entries to decode that make one more goroutine
// worth starting; a variable for tests.
var decodeEntriesPerWorker = 256

// decodePending decodes the pending entries, on up to GOMAXPROCS goroutines when there
// are many (the whole list, on the first read), and returns the error of the first
// malformed one in list order.
func (d *peeringDecoder) decodePending() error {
	p := d.pending
	workers := min(runtime.GOMAXPROCS(0), len(p)/decodeEntriesPerWorker)
	if workers <= 1 {
		decodeEntries(p)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { decodeEntries(p[w*len(p)/workers : (w+1)*len(p)/workers]) })
		}
		wg.Wait()
	}
	for k := range p {
		if p[k].err != nil {
			return p[k].listError()
		}
	}
	d.decoded += len(p)
	return nil
}

func decodeEntries(p []pendingEntry) {
	for k := range p {
		p[k].err = jsonv1.Unmarshal(p[k].raw, &p[k].c.value)
	}
}

// listError describes the entry's decoding error, with what can be read of its
// identity.
func (e *pendingEntry) listError() error {
	out := &PeeringListError{Entry: e.i, Offset: e.start, Err: e.err}
	_ = jsonv1.Unmarshal(e.f.id, &out.ID)
	_ = jsonv1.Unmarshal(e.f.partition, &out.Partition)
	_ = jsonv1.Unmarshal(e.f.name, &out.Name)
	return out
}

// clearPending forgets the pending entries, keeping no reference to the answer.
func (d *peeringDecoder) clearPending() {
	clear(d.pending)
	d.pending = d.pending[:0]
}

// fields reads the members of an entry after its '{' up to its '}', keeping the values
// of the identity fields as slices of body.
func (d *peeringDecoder) fields(body []byte) (entryFields, error) {
	f := entryFields{exact: true}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadValue()
		if err != nil {
			return f, err
		}
		var dst *[]byte
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
			end := d.dec.InputOffset()
			*dst = body[end-int64(len(v)) : end]
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
