package acl

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// RenderHCL returns the policy as HCL in hclwrite's canonical multi-line layout, ending
// with a newline; the empty policy renders as no bytes. It fails with a
// *ValidationError if the policy is invalid and with ErrNotHCLSafe if a name cannot be
// carried through HCL unchanged (RenderJSON can write it).
func (p *Policy) RenderHCL() ([]byte, error) {
	items, err := p.hclItems()
	if err != nil {
		return nil, err
	}
	f := hclwrite.NewEmptyFile()
	writeHCLBody(f.Body(), items)
	return hclwrite.Format(f.Bytes()), nil
}

// RenderCompactHCL returns the policy as compact HCL: one top-level rule per line,
// blocks whose body is a single value on one line (`partition_prefix "" { peering =
// "read" }`), other blocks over several lines, and no final newline. The peering rule
// alone renders exactly as Consul's documentation writes it. Errors are as for
// RenderHCL.
func (p *Policy) RenderCompactHCL() ([]byte, error) {
	items, err := p.hclItems()
	if err != nil {
		return nil, err
	}
	var toks hclwrite.Tokens
	for _, it := range items {
		toks = append(toks, compactHCLItem(it)...)
		toks = append(toks, newlineToken())
	}
	return bytes.TrimRight(hclwrite.Format(toks.Bytes()), "\n"), nil
}

// hclItems validates p and returns its items, checking that HCL can carry every string.
func (p *Policy) hclItems() ([]item, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	items := encodePolicy(p)
	if err := checkHCLSafe(items); err != nil {
		return nil, err
	}
	return items, nil
}

// checkHCLSafe rejects labels that hclwrite would change on the way to Consul: it
// escapes template sequences ("${", "%{") that Consul's HCL 1 parser reads literally,
// and cty normalises strings to Unicode NFC.
func checkHCLSafe(items []item) error {
	var errs []error
	for _, it := range items {
		for _, l := range it.labels {
			if strings.Contains(l, "${") || strings.Contains(l, "%{") || cty.StringVal(l).AsString() != l {
				errs = append(errs, fmt.Errorf("%w: %s %q", ErrNotHCLSafe, it.name, l))
			}
		}
		errs = append(errs, checkHCLSafe(it.body))
	}
	return errors.Join(errs...)
}

func writeHCLBody(body *hclwrite.Body, items []item) {
	for _, it := range items {
		if it.kind == itemString {
			body.SetAttributeValue(it.name, cty.StringVal(it.value))
			continue
		}
		writeHCLBody(body.AppendNewBlock(it.name, it.labels).Body(), it.body)
	}
}

// compactHCLItem returns the tokens of one item without its final newline.
func compactHCLItem(it item) hclwrite.Tokens {
	if it.kind == itemString {
		toks := hclwrite.TokensForIdentifier(it.name)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenEqual, Bytes: []byte("=")})
		return append(toks, hclwrite.TokensForValue(cty.StringVal(it.value))...)
	}
	toks := hclwrite.TokensForIdentifier(it.name)
	for _, l := range it.labels {
		toks = append(toks, hclwrite.TokensForValue(cty.StringVal(l))...)
	}
	toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenOBrace, Bytes: []byte("{")})
	if len(it.body) == 1 && it.body[0].kind == itemString {
		toks = append(toks, compactHCLItem(it.body[0])...)
	} else {
		toks = append(toks, newlineToken())
		for _, in := range it.body {
			toks = append(toks, compactHCLItem(in)...)
			toks = append(toks, newlineToken())
		}
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrace, Bytes: []byte("}")})
}

func newlineToken() *hclwrite.Token {
	return &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}
}

// ParseHCL parses policy rules written in HCL, as Consul accepts them, into a Policy.
// filename is used in error messages only.
//
// Keywords match case-insensitively and access levels are lower-cased, as in Consul.
// Unlike Consul, which silently ignores keys it does not know, ParseHCL rejects them, as
// a misspelt rule grants nothing.
//
// ParseHCL reads HCL 2 native syntax; Consul reads rules with HCL 1. The two agree on
// the usual layout (one rule per line, blocks over several lines or with a single
// attribute on one line), but HCL 1 also accepts several rules on one line inside
// braces, such as service "web" { policy = "read" intentions = "read" } or nested
// one-line blocks; ParseHCL rejects those with ErrSyntax. Put them on separate lines or
// use the JSON form. Errors are *ParseError values (joined with
// errors.Join when there are several) that name the rule and its line.
func ParseHCL(src []byte, filename string) (*Policy, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(filename, diags)
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, &ParseError{Filename: filename, Line: 1, Err: fmt.Errorf("%w: unexpected HCL body %T", ErrSyntax, file.Body)}
	}
	d := &decoder{filename: filename}
	p := d.policy(hclItems(body))
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return p, nil
}

// diagError converts HCL diagnostics to parse errors.
func diagError(filename string, diags hcl.Diagnostics) error {
	var errs []error
	for _, diag := range diags {
		if diag.Severity != hcl.DiagError {
			continue
		}
		line := 0
		if diag.Subject != nil {
			line = diag.Subject.Start.Line
		}
		errs = append(errs, &ParseError{Filename: filename, Line: line, Err: fmt.Errorf("%w: %s; %s", ErrSyntax, diag.Summary, diag.Detail)})
	}
	return errors.Join(errs...)
}

// hclItems converts an HCL body to items, in source order.
func hclItems(body *hclsyntax.Body) []item {
	var items []item
	for name, a := range body.Attributes {
		it := item{kind: itemOther, name: strings.ToLower(name), line: a.SrcRange.Start.Line}
		if v, diags := a.Expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			it.kind, it.value = itemString, v.AsString()
		}
		items = append(items, it)
	}
	for _, b := range body.Blocks {
		items = append(items, item{
			kind:   itemBlock,
			name:   strings.ToLower(b.Type),
			labels: b.Labels,
			body:   hclItems(b.Body),
			line:   b.TypeRange.Start.Line,
		})
	}
	return items
}
