package acl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl"
	hcl1ast "github.com/hashicorp/hcl/hcl/ast"
	hcl1token "github.com/hashicorp/hcl/hcl/token"
	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcl2json "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"

	"github.com/peeringgw/peeringgw/acl"
)

// FuzzParse checks that Parse reads any text as Consul does (checkAgainstConsul: it
// accepts what Consul's HCL 1 decoding and validation accept, with the same rules), and
// that every policy it accepts renders, in each of the four forms, to text that parses
// back to the same policy, that Consul reads the same way, and that HCL 2 reads as HCL 1
// does (names and values).
func FuzzParse(f *testing.F) {
	for _, e := range []acl.Edition{acl.EditionCE, acl.EditionEnterprise, acl.EditionBoth} {
		p, err := acl.MeshGateway(e)
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range publicRenderers {
			src, err := r.render(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range corpus {
		if ext := filepath.Ext(path); ext != ".hcl" && ext != ".json" {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p := checkAgainstConsul(t, src)
		if p == nil {
			return
		}
		checkRendered(t, p)
	})
}

// publicRenderers are the four text forms.
var publicRenderers = []struct {
	name   string
	hcl    bool
	render func(*acl.Policy) ([]byte, error)
}{
	{"HCL", true, (*acl.Policy).RenderHCL},
	{"compact HCL", true, (*acl.Policy).RenderCompactHCL},
	{"JSON", false, (*acl.Policy).RenderJSON},
	{"compact JSON", false, (*acl.Policy).RenderCompactJSON},
}

// checkRendered renders p in every form and checks that each parses back to p, that
// Consul reads it as Parse does, and that HCL 2 reads the same names and values. A name
// HCL cannot carry makes the HCL forms fail with ErrNotHCLSafe; nothing else may fail.
func checkRendered(t testing.TB, p *acl.Policy) {
	t.Helper()
	for _, r := range publicRenderers {
		out, err := r.render(p)
		if err != nil {
			if r.hcl && strings.Contains(err.Error(), acl.ErrNotHCLSafe.Error()) {
				continue
			}
			t.Fatalf("%s: %v", r.name, err)
		}
		back := checkAgainstConsul(t, out)
		if back == nil {
			t.Fatalf("rendered %s does not parse:\n%s", r.name, out)
		}
		if diff := cmp.Diff(p, back); diff != "" {
			t.Fatalf("%s round trip changed the policy (-parsed +round-tripped):\n%s\n%s", r.name, diff, out)
		}
		if r.hcl {
			checkHCL2(t, out)
		} else if _, diags := hcl2json.Parse(out, "policy.json"); diags.HasErrors() {
			t.Fatalf("HCL 2 does not read the rendered %s: %v\n%s", r.name, diags, out)
		}
	}
}

// node is an attribute or a block of HCL text, read by either HCL version.
type node struct {
	Name   string
	Labels []string
	Value  string
	Body   []node
}

// canonical sorts attributes first, by name, then blocks in their order.
func canonical(nodes []node) []node {
	slices.SortStableFunc(nodes, func(a, b node) int {
		if (a.Body == nil) != (b.Body == nil) {
			if a.Body == nil {
				return -1
			}
			return 1
		}
		if a.Body == nil {
			return strings.Compare(a.Name, b.Name)
		}
		return 0
	})
	return nodes
}

// checkHCL2 checks that HCL 2 reads rendered HCL with the names, labels and values HCL 1
// reads.
func checkHCL2(t testing.TB, src []byte) {
	t.Helper()
	file, diags := hclsyntax.ParseConfig(src, "policy.hcl", hcl2.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("HCL 2 does not read the rendered HCL: %v\n%s", diags, src)
	}
	v2, err := hcl2Nodes(file.Body.(*hclsyntax.Body))
	if err != nil {
		t.Fatalf("HCL 2: %v\n%s", err, src)
	}
	parsed, err := hcl.ParseBytes(src)
	if err != nil {
		t.Fatalf("HCL 1: %v\n%s", err, src)
	}
	v1, err := hcl1Nodes(parsed.Node.(*hcl1ast.ObjectList))
	if err != nil {
		t.Fatalf("HCL 1: %v\n%s", err, src)
	}
	if diff := cmp.Diff(v1, v2); diff != "" {
		t.Fatalf("HCL 1 and HCL 2 read the rendered HCL differently (-hcl1 +hcl2):\n%s\n%s", diff, src)
	}
}

func hcl2Nodes(body *hclsyntax.Body) ([]node, error) {
	nodes := []node{}
	for name, a := range body.Attributes {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return nil, fmt.Errorf("attribute %s is not a literal string", name)
		}
		nodes = append(nodes, node{Name: name, Value: v.AsString()})
	}
	for _, b := range body.Blocks {
		inner, err := hcl2Nodes(b.Body)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, node{Name: b.Type, Labels: b.Labels, Body: inner})
	}
	return canonical(nodes), nil
}

func hcl1Nodes(list *hcl1ast.ObjectList) ([]node, error) {
	nodes := []node{}
	for _, it := range list.Items {
		var keys []string
		for _, k := range it.Keys {
			s, ok := k.Token.Value().(string)
			if !ok {
				return nil, fmt.Errorf("key %s", k.Token.Text)
			}
			keys = append(keys, s)
		}
		switch v := it.Val.(type) {
		case *hcl1ast.LiteralType:
			s, ok := v.Token.Value().(string)
			if !ok || v.Token.Type != hcl1token.STRING || len(keys) != 1 {
				return nil, fmt.Errorf("item %v is not a string attribute", keys)
			}
			nodes = append(nodes, node{Name: keys[0], Value: s})
		case *hcl1ast.ObjectType:
			inner, err := hcl1Nodes(v.List)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, node{Name: keys[0], Labels: keys[1:], Body: inner})
		default:
			return nil, fmt.Errorf("item %v has a %T", keys, it.Val)
		}
	}
	return canonical(nodes), nil
}

// TestRenderedPoliciesReadTheSameEverywhere runs checkRendered on every builder output
// and on every policy of the corpus.
func TestRenderedPoliciesReadTheSameEverywhere(t *testing.T) {
	for _, e := range []acl.Edition{acl.EditionCE, acl.EditionEnterprise, acl.EditionBoth} {
		for _, opts := range [][]acl.Option{nil, {acl.WithAgentRead(false)}, {acl.WithGatewayName("gw-east")}} {
			p, err := acl.MeshGateway(e, opts...)
			if err != nil {
				t.Fatal(err)
			}
			checkRendered(t, p)
		}
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil || !(strings.HasSuffix(path, ".hcl") || strings.HasSuffix(path, ".json")) {
			continue
		}
		if p, err := acl.Parse(src, path); err == nil {
			t.Run(filepath.Base(path), func(t *testing.T) { checkRendered(t, p) })
		}
	}
	// HCL 2 reads hclwrite's escapes as HCL 1 does.
	checkRendered(t, &acl.Policy{Rules: acl.Rules{Keys: []acl.Rule{{Name: "a \"b\"\\c\n\td\u00e9\u2028", Policy: acl.AccessRead}}}})
}
