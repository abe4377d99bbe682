package consulsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/internal/load"
)

// timeLayout writes the StreamStatus times with a fixed width (RFC 3339 with nine
// fractional digits in UTC, 30 bytes), so that a read copies the current time into
// placeholders of the rendered JSON.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// placeholder stands for the current time in rendered peerings; its JSON form has the
// width of timeLayout and occurs nowhere else.
var placeholder = time.Date(1999, 9, 9, 9, 9, 9, 999999999, time.UTC)

// placeholderJSON is placeholder as encoding/json writes it, quotes excluded.
var placeholderJSON = []byte(placeholder.Format(time.RFC3339Nano))

// peeringTable holds the peerings, each rendered as Consul writes it; the Server's mu
// guards it.
type peeringTable struct {
	enterprise bool
	index      uint64        // X-Consul-Index of the list
	byNumber   map[int]*peer // by the i of load.Peering(i, ...)
	order      []*peer       // by name, as Consul lists them
	size       int           // the bytes of every rendered peering
}

// peer is one peering and its rendered JSON.
type peer struct {
	api.Peering
	i     int // of load.Peering(i, ...)
	json  []byte
	times [3]int // offsets of the placeholders in json
}

func (t *peeringTable) init(n int, enterprise bool) {
	t.enterprise = enterprise
	t.byNumber = make(map[int]*peer, n)
	t.order = make([]*peer, 0, n)
	for i := range n {
		t.insert(t.newPeer(i, false, uint64(i+1)))
	}
}

// newPeer returns peering i as Consul 1.14.8 lists a dialing peering, created and
// modified at index.
func (t *peeringTable) newPeer(i int, alt bool, index uint64) *peer {
	p := &peer{Peering: load.Peering(i, alt).Peering, i: i}
	p.PeerID = fmt.Sprintf("%08x-1111-4111-8111-%012x", i, i)
	p.PeerCAPems = []string{fakePEM(i)}
	p.StreamStatus = api.PeeringStreamStatus{
		ImportedServices: []string{"api", "web"},
		ExportedServices: []string{"billing"},
		LastHeartbeat:    &placeholder,
		LastReceive:      &placeholder,
		LastSend:         &placeholder,
	}
	p.CreateIndex, p.ModifyIndex = index, index
	p.Remote = api.PeeringRemoteInfo{Datacenter: fmt.Sprintf("dc%d", i+2)}
	if t.enterprise {
		p.Partition, p.Remote.Partition = "default", "default"
	}
	p.render()
	return p
}

// render encodes the peering and finds its placeholders.
func (p *peer) render() {
	p.json = mustJSON(&p.Peering)
	at := 0
	for k := range p.times {
		off := bytes.Index(p.json[at:], placeholderJSON)
		if off < 0 {
			panic(fmt.Sprintf("consulsim: rendered peering %s has %d time placeholders, want 3", p.Name, k))
		}
		p.times[k] = at + off
		at += off + len(placeholderJSON)
	}
}

func comparePeers(a, b *peer) int { return strings.Compare(a.Name, b.Name) }

func (t *peeringTable) insert(p *peer) {
	k, _ := slices.BinarySearchFunc(t.order, p, comparePeers)
	t.order = slices.Insert(t.order, k, p)
	t.byNumber[p.i] = p
	t.size += len(p.json)
}

func (t *peeringTable) delete(p *peer) {
	k, found := slices.BinarySearchFunc(t.order, p, comparePeers)
	if found {
		t.order = slices.Delete(t.order, k, k+1)
	}
	delete(t.byNumber, p.i)
	t.size -= len(p.json)
}

// replace puts q in the place of p, which has the same name.
func (t *peeringTable) replace(p, q *peer) {
	t.delete(p)
	t.insert(q)
}

func (t *peeringTable) setAddresses(i int, alt bool, index uint64) bool {
	p := t.byNumber[i]
	if p == nil {
		return false
	}
	q := t.newPeer(i, alt, index)
	q.CreateIndex, q.State = p.CreateIndex, p.State
	q.render()
	t.replace(p, q)
	t.index = index
	return true
}

func (t *peeringTable) add(i int, index uint64) bool {
	if t.byNumber[i] != nil {
		return false
	}
	t.insert(t.newPeer(i, false, index))
	t.index = index
	return true
}

func (t *peeringTable) remove(i int, index uint64) bool {
	p := t.byNumber[i]
	if p == nil {
		return false
	}
	t.delete(p)
	t.index = index
	return true
}

func (t *peeringTable) setState(i int, state api.PeeringState) bool {
	p := t.byNumber[i]
	if p == nil {
		return false
	}
	q := *p
	q.State = state
	q.render()
	t.replace(p, &q)
	return true
}

// render appends the JSON list of the peerings to buf, with now as every StreamStatus
// time.
func (t *peeringTable) render(buf []byte, now time.Time) []byte {
	var ts [len(timeLayout)]byte
	stamp := now.UTC().AppendFormat(ts[:0], timeLayout)
	need := t.size + len(t.order) + 2
	buf = slices.Grow(buf, need+need/16) // room for the peerings to grow a little
	buf = append(buf, '[')
	for k, p := range t.order {
		if k > 0 {
			buf = append(buf, ',')
		}
		at := 0
		for _, off := range p.times {
			buf = append(buf, p.json[at:off]...)
			buf = append(buf, stamp...)
			at = off + len(placeholderJSON)
		}
		buf = append(buf, p.json[at:]...)
	}
	return append(buf, ']')
}

// fakePEM returns a PEM block shaped as the CA certificate of peer i: the size of a
// Consul CA's P-256 certificate, random content.
func fakePEM(i int) string {
	der := make([]byte, 600)
	r := rand.New(rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))
	for k := range der {
		der[k] = byte(r.Uint32())
	}
	b64 := base64.StdEncoding.EncodeToString(der)
	var sb strings.Builder
	sb.WriteString("-----BEGIN CERTIFICATE-----\n")
	for len(b64) > 64 {
		sb.WriteString(b64[:64])
		sb.WriteByte('\n')
		b64 = b64[64:]
	}
	sb.WriteString(b64)
	sb.WriteString("\n-----END CERTIFICATE-----\n")
	return sb.String()
}
