package acl_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestParseAgreesWithConsulOnGeneratedPolicies checks Parse against Consul's reading
// (checkAgainstConsul) on policies generated from the shapes HCL 1 and its decoder
// allow: blocks with zero to three labels, objects, lists, numbers, heredocs,
// repeated keys, keys in other cases, known and unknown keywords, Enterprise blocks,
// and their JSON forms. Every policy Parse accepts must also render and parse back
// (checkRendered). The seed is fixed, so a failure reproduces.
func TestParseAgreesWithConsulOnGeneratedPolicies(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		g := &policyGen{r: r}
		items := g.items(0)
		for _, src := range []string{g.hcl(items, 0), g.json(items)} {
			if p := checkAgainstConsul(t, []byte(src)); p != nil {
				checkRendered(t, p)
			}
			if t.Failed() {
				t.Fatalf("policy %d:\n%s", i, src)
			}
		}
	}
}

// genItem is a generated attribute or block.
type genItem struct {
	key    string
	labels []string
	value  any // string (quoted HCL), or nil for a block
	list   []any
	body   []genItem
	assign bool // key = { body } rather than key "label" { body }
}

type policyGen struct {
	r *rand.Rand
}

var (
	genKeywords = []string{"peering", "mesh", "operator", "acl", "keyring", "service", "service_prefix",
		"node", "node_prefix", "key", "key_prefix", "agent_prefix", "session", "query", "event_prefix",
		"policy", "intentions", "namespace", "namespace_prefix", "partition", "partition_prefix",
		"Service", "PEERING", "Policy", "unknown", "web", ""}
	genStrings = []string{`"read"`, `"write"`, `"deny"`, `"list"`, `"READ"`, `""`, `"reed"`, `"${x}"`}
	genLabels  = []string{"", "web", "policy", "a", "default", "service", "intentions"}
)

func (g *policyGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *policyGen) items(depth int) []genItem {
	n := g.r.IntN(4)
	if depth == 0 {
		n++
	}
	var items []genItem
	for range n {
		items = append(items, g.item(depth))
	}
	return items
}

func (g *policyGen) item(depth int) genItem {
	it := genItem{key: g.pick(genKeywords)}
	if it.key == "" {
		it.key = "x"
	}
	switch k := g.r.IntN(10); {
	case k < 4 || depth > 3:
		switch g.r.IntN(8) {
		case 0:
			it.value = fmt.Sprint(g.r.IntN(3))
		case 1:
			it.value = "1.5"
		case 2:
			it.value = "true"
		case 3:
			it.list = []any{`"read"`}
		default:
			it.value = g.pick(genStrings)
		}
	case k < 5:
		it.assign = true
		it.body = g.items(depth + 1)
	default:
		for range g.r.IntN(4) {
			it.labels = append(it.labels, g.pick(genLabels))
		}
		it.body = g.items(depth + 1)
	}
	return it
}

// hcl writes items as HCL, with random separators.
func (g *policyGen) hcl(items []genItem, depth int) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString([]string{"\n", " ", ", ", "\n\n"}[g.r.IntN(4)])
		}
		b.WriteString(it.key)
		for _, l := range it.labels {
			fmt.Fprintf(&b, " %q", l)
		}
		switch {
		case it.value != nil:
			fmt.Fprintf(&b, " = %s", it.value)
		case it.list != nil:
			fmt.Fprintf(&b, " = [%s]", it.list[0])
		default:
			if it.assign {
				b.WriteString(" =")
			}
			fmt.Fprintf(&b, " { %s }", g.hcl(it.body, depth+1))
		}
	}
	return b.String()
}

// json writes items as JSON: a block's labels become nested objects.
func (g *policyGen) json(items []genItem) string {
	var b strings.Builder
	b.WriteString("{")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		key, _ := json.Marshal(it.key)
		b.Write(key)
		b.WriteString(": ")
		closing := ""
		for _, l := range it.labels {
			label, _ := json.Marshal(l)
			fmt.Fprintf(&b, "{%s: ", label)
			closing += "}"
		}
		switch {
		case it.value != nil:
			b.WriteString(jsonValue(it.value.(string)))
		case it.list != nil:
			fmt.Fprintf(&b, "[%s]", jsonValue(it.list[0].(string)))
		default:
			body := g.json(it.body)
			if g.r.IntN(4) == 0 {
				body = "[" + body + "]"
			}
			b.WriteString(body)
		}
		b.WriteString(closing)
	}
	b.WriteString("}")
	return b.String()
}

// jsonValue converts a generated HCL value to JSON.
func jsonValue(v string) string {
	if strings.HasPrefix(v, `"`) {
		return v
	}
	return v
}
