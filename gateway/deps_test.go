package gateway_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// textFormatModules are the module paths of the text formats (HCL and its value and
// Unicode libraries) that generating configuration does not need.
var textFormatModules = []string{
	"github.com/hashicorp/hcl",
	"github.com/zclconf/go-cty",
	"github.com/apparentlymart/go-textseg",
}

// isTextFormat reports whether the package at path belongs to HCL, cty, go-textseg or a
// YAML library. (github.com/hashicorp/go-hclog, a logging library consul/api uses, is
// none of them.)
func isTextFormat(path string) bool {
	for _, m := range textFormatModules {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	for _, elem := range strings.Split(path, "/") {
		if strings.Contains(strings.ToLower(elem), "yaml") {
			return true
		}
	}
	return false
}

// TestNoTextFormatDependencies checks that the gateway package, and the xds package,
// which imports it to generate Envoy configuration, do not depend on HCL, cty,
// go-textseg or YAML: rendering and parsing service definitions lives in
// gateway/servicedef.
func TestNoTextFormatDependencies(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, pkg := range []string{"github.com/peeringgw/peeringgw/gateway", "github.com/peeringgw/peeringgw/xds"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(goCmd, "list", "-deps", pkg).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
				}
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			var found []string
			for _, dep := range strings.Fields(string(out)) {
				if isTextFormat(dep) {
					found = append(found, dep)
				}
			}
			if len(found) > 0 {
				t.Errorf("%s depends on text formats it does not need:\n%s", pkg, strings.Join(found, "\n"))
			}
		})
	}
}

func TestIsTextFormat(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/hashicorp/hcl":                         true,
		"github.com/hashicorp/hcl/v2/hclsyntax":            true,
		"github.com/zclconf/go-cty/cty":                    true,
		"github.com/apparentlymart/go-textseg/v15/textseg": true,
		"go.yaml.in/yaml/v3":                               true,
		"sigs.k8s.io/yaml":                                 true,
		"gopkg.in/yaml.v3":                                 true,
		"github.com/hashicorp/go-hclog":                    false,
		"github.com/hashicorp/hclfoo":                      false,
		"github.com/peeringgw/peeringgw/gateway":           false,
	} {
		if got := isTextFormat(path); got != want {
			t.Errorf("isTextFormat(%q) = %v, want %v", path, got, want)
		}
	}
}
