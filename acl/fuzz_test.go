package acl_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/peeringgw/peeringgw/acl"
)

// FuzzParse checks that parsing never panics and that every policy it accepts renders,
// in HCL and in JSON, to text that parses back to the same policy.
func FuzzParse(f *testing.F) {
	for _, e := range []acl.Edition{acl.EditionCE, acl.EditionEnterprise, acl.EditionBoth} {
		p, err := acl.MeshGateway(e)
		if err != nil {
			f.Fatal(err)
		}
		for _, render := range []func() ([]byte, error){p.RenderHCL, p.RenderJSON, p.RenderCompactHCL, p.RenderCompactJSON} {
			src, err := render()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte(`key_prefix "" { policy = "list" }` + "\n" + `operator = "write"`))
	f.Add([]byte(`{"service": {"web": [{"policy": "read"}]}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := acl.Parse(src, "fuzz.hcl")
		if err != nil {
			return
		}
		for name, render := range map[string]func() ([]byte, error){"HCL": p.RenderHCL, "JSON": p.RenderJSON} {
			out, err := render()
			if err != nil {
				continue // e.g. names HCL cannot carry: refused with an error, never mangled
			}
			back, err := acl.Parse(out, "rendered")
			if err != nil {
				t.Fatalf("rendered %s does not parse: %v\n%s", name, err, out)
			}
			if diff := cmp.Diff(p, back); diff != "" {
				t.Fatalf("%s round trip changed the policy (-parsed +round-tripped):\n%s", name, diff)
			}
		}
	})
}
