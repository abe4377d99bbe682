package acl

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

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
