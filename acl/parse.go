package acl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/hcl/ast"
	hclparser "github.com/hashicorp/hcl/hcl/parser"
	"github.com/hashicorp/hcl/hcl/token"
	jsonparser "github.com/hashicorp/hcl/json/parser"
	jsonscanner "github.com/hashicorp/hcl/json/scanner"
	jsontoken "github.com/hashicorp/hcl/json/token"
)

// ParseOption configures Parse, ParseHCL and ParseJSON.
type ParseOption interface {
	applyParse(*parseOptions)
}

type parseOptions struct {
	warnings *[]*ParseError
	strict   bool
}

type parseOptionFunc func(*parseOptions)

func (f parseOptionFunc) applyParse(o *parseOptions) { f(o) }

// WithWarnings makes the parser append to *dst a warning for every part of the text that
// Consul accepts but ignores or overrides; by default warnings are dropped. A warning is
// a *ParseError, like an error, that wraps one of:
//
//   - ErrUnknownRule: a key Consul does not know at that place, such as a misspelt rule
//     ("peerings") or an attribute a rule does not have (intentions in a node rule);
//     Consul ignores it, so it grants nothing;
//   - ErrDuplicateRule: a single-value rule or attribute set more than once in a block;
//     Consul keeps the last value;
//   - ErrRuleShape: labels after the first of a rule with three or more labels, such as
//     service "a" "b" "c" { ... }, which Consul reads as service "a"; or a rule without
//     a label, such as service { policy = "read" }, which Consul reads as a rule for
//     the service named "policy";
//   - ErrRuleNotAllowed: a partition or namespace block nested where none can be
//     (a partition in a partition or a namespace, a namespace in a namespace);
//   - ErrSyntax: JSON text after the end of the policy object, or after a missing comma,
//     where Consul's JSON parser stops reading.
//
// Warnings come in line order, after the warnings already in *dst, whether or not the
// parse succeeds. dst must not be nil.
func WithWarnings(dst *[]*ParseError) ParseOption {
	return parseOptionFunc(func(o *parseOptions) { o.warnings = dst })
}

// Strict makes the parser fail on every warning (see WithWarnings) instead of accepting
// the text as Consul does: a linter's choice, since each warning is a rule that does not
// grant what it seems to. Off by default.
func Strict() ParseOption {
	return parseOptionFunc(func(o *parseOptions) { o.strict = true })
}

// Parse parses policy rules as Consul does: text whose first character other than white
// space is "{" is JSON (ParseJSON), anything else HCL (ParseHCL), the test Consul's HCL 1
// parser makes. Empty text is the empty policy.
func Parse(src []byte, filename string, opts ...ParseOption) (*Policy, error) {
	if isJSON(src) {
		return ParseJSON(src, filename, opts...)
	}
	return ParseHCL(src, filename, opts...)
}

// isJSON reports whether HCL 1 reads src as JSON.
func isJSON(src []byte) bool {
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if !unicode.IsSpace(r) {
			return r == '{'
		}
		src = src[n:]
	}
	return false
}

// ParseHCL parses policy rules written in HCL into a Policy, reading them exactly as
// Consul does: with the HCL 1 grammar (github.com/hashicorp/hcl v1.0.0) and the
// decoding rules of Consul's acl package. filename is used in messages only.
//
// HCL 1 is more lenient than HCL 2: several attributes may share a line, with or without
// commas (service "web" { policy = "read" intentions = "read" }), blocks nest on one
// line, a rule may be written as an object (service = { "web" = { policy = "read" } }),
// and keywords match case-insensitively. Access levels are lower-cased, as Consul
// compares them. An empty access level is no rule, as in Consul: peering = "" is
// accepted and sets nothing.
//
// ParseHCL accepts every text Consul CE 1.14.8 accepts, with the same rules, and rejects
// what it rejects; the only difference is that partition and namespace blocks, which
// Consul CE ignores, are read and validated as Consul Enterprise documents them, so a
// mistake inside one is an error. What Consul accepts but ignores is not an error: see
// WithWarnings and Strict. Errors are *ParseError values, joined with errors.Join when
// there are several, in line order, that name the line and the rule.
func ParseHCL(src []byte, filename string, opts ...ParseOption) (*Policy, error) {
	file, err := parseSafely(hclparser.Parse, src)
	if err != nil {
		return nil, &ParseError{Filename: filename, Line: hclErrorLine(err), Err: fmt.Errorf("%w: %s", ErrSyntax, syntaxMessage(err))}
	}
	return decodeFile(file, filename, nil, 0, opts)
}

// ParseJSON parses policy rules written in JSON, Consul's other syntax, into a Policy:
// {"peering": "read", "service": {"web": {"policy": "write"}}}. Consul reads JSON with
// HCL 1 too, so a rule's body may also be a list of objects ({"service": {"web":
// [{"policy": "read"}]}}), as in Consul's documentation, and rules, errors and warnings
// are as for ParseHCL. filename is used in messages only.
func ParseJSON(src []byte, filename string, opts ...ParseOption) (*Policy, error) {
	file, err := parseSafely(jsonparser.Parse, src)
	if err != nil {
		return nil, &ParseError{Filename: filename, Line: jsonErrorLine(src, err), Err: fmt.Errorf("%w: %s", ErrSyntax, syntaxMessage(err))}
	}
	json, skipped := jsonPositions(src, file)
	return decodeFile(file, filename, json, skipped, opts)
}

// parseSafely runs an HCL 1 parser, turning a panic into an error.
func parseSafely(parse func([]byte) (*ast.File, error), src []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("unreadable text: %v", r)
		}
	}()
	return parse(src)
}

// decodeFile decodes a parsed policy. skipped is the line where HCL 1's JSON parser
// stopped reading text that goes on, 0 if it read it all.
func decodeFile(file *ast.File, filename string, json map[ast.Node]jsonToken, skipped int, opts []ParseOption) (*Policy, error) {
	var o parseOptions
	for _, opt := range opts {
		opt.applyParse(&o)
	}
	d := &decoder{filename: filename, json: json}
	p := d.policy(file.Node)
	if skipped > 0 {
		d.warn(skipped, "", fmt.Errorf("%w: Consul's JSON parser stops reading here (after the first object, or at a missing comma) and ignores the rest", ErrSyntax))
	}
	d.sortFindings()
	if o.warnings != nil {
		*o.warnings = append(*o.warnings, d.warnings...)
	}
	errs := d.errs
	if o.strict {
		errs = append(errs, d.warnings...)
		sortByLine(errs)
	}
	if len(errs) > 0 {
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return p, nil
}

// atPosition matches the position HCL 1 puts in front of its messages: "At 3:7: " from
// the HCL parser, "3:7: " from the JSON scanner.
var atPosition = regexp.MustCompile(`^(?:At )?(\d+):(\d+): `)

// syntaxMessage is err's message without its position.
func syntaxMessage(err error) string {
	var pe *hclparser.PosError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return atPosition.ReplaceAllString(err.Error(), "")
}

// hclErrorLine is the line of an HCL 1 syntax error, 1 when it names none.
func hclErrorLine(err error) int {
	var pe *hclparser.PosError
	if errors.As(err, &pe) && pe.Pos.Line > 0 {
		return pe.Pos.Line
	}
	return 1
}

// jsonErrorLine is the line of a JSON syntax error. HCL 1's JSON scanner names it; its
// parser does not, so the line is where encoding/json finds the text broken, or else the
// first line with text.
func jsonErrorLine(src []byte, err error) int {
	if m := atPosition.FindStringSubmatch(err.Error()); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil && line > 0 {
			return line
		}
	}
	var se *json.SyntaxError
	if jsonErr := json.Unmarshal(src, new(any)); errors.As(jsonErr, &se) {
		return lineAt(src, se.Offset)
	}
	return lineAt(src, int64(len(src)-len(bytes.TrimLeftFunc(src, unicode.IsSpace))))
}

// lineAt returns the 1-based line of byte offset off in src.
func lineAt(src []byte, off int64) int {
	off = min(max(off, 0), int64(len(src)))
	return bytes.Count(src[:off], []byte("\n")) + 1
}

// jsonToken is where a key or string of a JSON policy is: its position, and the offset
// of the brace or bracket that encloses it.
type jsonToken struct {
	index     int
	pos       token.Pos
	enclosing int
}

// jsonPositions maps the keys and string values of a parsed JSON policy to where they
// are, which HCL 1's JSON parser does not keep. It parses src a second time with every
// string replaced by a numbered marker: the two trees have the same shape, so the
// markers name the source token of every key and string of the first tree. It returns
// nil if that fails. skipped is the line of the first string the parser did not read
// (it stops at the end of the first object, or at a missing comma), 0 if none.
func jsonPositions(src []byte, file *ast.File) (json map[ast.Node]jsonToken, skipped int) {
	var (
		marked  bytes.Buffer
		tokens  []jsonToken
		open    []int // offsets of the braces and brackets enclosing the scanner
		scanErr bool  // the rest is past the policy object, which the parser ignores
	)
	s := jsonscanner.New(src)
	s.Error = func(jsontoken.Pos, string) { scanErr = true }
	last := 0
	for {
		tok := s.Scan()
		if tok.Type == jsontoken.EOF || scanErr {
			break
		}
		switch tok.Type {
		case jsontoken.LBRACE, jsontoken.LBRACK:
			open = append(open, tok.Pos.Offset)
			continue
		case jsontoken.RBRACE, jsontoken.RBRACK:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			continue
		case jsontoken.STRING:
		default:
			continue
		}
		start := tok.Pos.Offset
		if start < last || start+len(tok.Text) > len(src) {
			return nil, 0
		}
		marked.Write(src[last:start])
		fmt.Fprintf(&marked, `"%d"`, len(tokens))
		last = start + len(tok.Text)
		enclosing := -1
		if len(open) > 0 {
			enclosing = open[len(open)-1]
		}
		tokens = append(tokens, jsonToken{index: len(tokens), pos: token.Pos{Offset: tok.Pos.Offset, Line: tok.Pos.Line, Column: tok.Pos.Column}, enclosing: enclosing})
	}
	marked.Write(src[last:])
	twin, err := parseSafely(jsonparser.Parse, marked.Bytes())
	if err != nil {
		return nil, 0
	}
	pos := map[ast.Node]jsonToken{}
	if !pairPositions(file.Node, twin.Node, tokens, pos) {
		return nil, 0
	}
	read := make([]bool, len(tokens))
	for _, t := range pos {
		read[t.index] = true
	}
	for i, ok := range read {
		if !ok {
			return pos, tokens[i].pos.Line
		}
	}
	return pos, 0
}

// pairPositions walks a and its marked twin b together, recording the position of every
// key and string literal of a. It reports false if the trees differ in shape.
func pairPositions(a, b ast.Node, tokens []jsonToken, pos map[ast.Node]jsonToken) bool {
	marker := func(t token.Token) (jsonToken, bool) {
		if t.Type != token.STRING || len(t.Text) < 2 {
			return jsonToken{}, false
		}
		i, err := strconv.Atoi(t.Text[1 : len(t.Text)-1])
		if err != nil || i < 0 || i >= len(tokens) {
			return jsonToken{}, false
		}
		return tokens[i], true
	}
	switch a := a.(type) {
	case *ast.ObjectList:
		b, ok := b.(*ast.ObjectList)
		if !ok || len(a.Items) != len(b.Items) {
			return false
		}
		for i := range a.Items {
			if !pairPositions(a.Items[i], b.Items[i], tokens, pos) {
				return false
			}
		}
	case *ast.ObjectItem:
		b, ok := b.(*ast.ObjectItem)
		if !ok || len(a.Keys) != len(b.Keys) || (a.Val == nil) != (b.Val == nil) {
			return false
		}
		for i := range a.Keys {
			p, ok := marker(b.Keys[i].Token)
			if !ok {
				return false
			}
			pos[a.Keys[i]] = p
		}
		return a.Val == nil || pairPositions(a.Val, b.Val, tokens, pos)
	case *ast.ObjectType:
		b, ok := b.(*ast.ObjectType)
		return ok && (a.List == nil) == (b.List == nil) && (a.List == nil || pairPositions(a.List, b.List, tokens, pos))
	case *ast.ListType:
		b, ok := b.(*ast.ListType)
		if !ok || len(a.List) != len(b.List) {
			return false
		}
		for i := range a.List {
			if !pairPositions(a.List[i], b.List[i], tokens, pos) {
				return false
			}
		}
	case *ast.LiteralType:
		b, ok := b.(*ast.LiteralType)
		if !ok || a.Token.Type != b.Token.Type {
			return false
		}
		if a.Token.Type == token.STRING && a.Token.Text != "" {
			p, ok := marker(b.Token)
			if !ok {
				return false
			}
			pos[a] = p
		}
	default:
		return false
	}
	return true
}
