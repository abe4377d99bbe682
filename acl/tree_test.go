package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// renderers are the four text forms, keyed by golden file suffix, with their parsers.
var renderers = []struct {
	suffix string
	render func(*Policy) ([]byte, error)
	parse  func([]byte, string, ...ParseOption) (*Policy, error)
}{
	{".hcl", (*Policy).RenderHCL, ParseHCL},
	{".json", (*Policy).RenderJSON, ParseJSON},
	{".compact.hcl", (*Policy).RenderCompactHCL, ParseHCL},
	{".compact.json", (*Policy).RenderCompactJSON, ParseJSON},
}

// assertRoundTrip checks that p renders in every form and parses back, by its own
// parser and by Parse, to p.
func assertRoundTrip(t *testing.T, p *Policy) {
	t.Helper()
	for _, r := range renderers {
		text, err := r.render(p)
		require.NoError(t, err, r.suffix)
		got, err := r.parse(text, "again")
		require.NoError(t, err, "%s:\n%s", r.suffix, text)
		assert.Equal(t, p, got, "got the parsed %s policy, want the rendered one", r.suffix)
		detected, err := Parse(text, "again")
		require.NoError(t, err, "%s:\n%s", r.suffix, text)
		assert.Equal(t, p, detected, "got Parse's %s policy, want the rendered one", r.suffix)
	}
}

// assertParseError checks that err is a *ParseError wrapping wantErr at the line and
// rule given; an empty wantRule is not checked.
func assertParseError(t *testing.T, err, wantErr error, wantLine int, wantRule string) {
	t.Helper()
	require.ErrorIs(t, err, wantErr)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, wantLine, pe.Line, "got line %d, want %d (%v)", pe.Line, wantLine, err)
	if wantRule != "" {
		assert.Equal(t, wantRule, pe.Rule, "got rule %q, want %q", pe.Rule, wantRule)
	}
}

// parseErrorCase is policy text a parser must reject.
type parseErrorCase struct {
	name     string
	src      string
	wantErr  error
	wantLine int
	wantRule string
}

func runParseErrorCases(t *testing.T, parse func([]byte, string, ...ParseOption) (*Policy, error), cases []parseErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parse([]byte(tt.src), "gw")
			assert.Nil(t, p)
			assertParseError(t, err, tt.wantErr, tt.wantLine, tt.wantRule)
		})
	}
}

// warningCase is policy text a parser accepts, as Consul does, with one warning.
type warningCase struct {
	name     string
	src      string
	want     *Policy
	wantErr  error
	wantLine int
	wantRule string
}

// runWarningCases checks that parse accepts each text with the policy and the warning
// given, and that Strict turns the warning into the error.
func runWarningCases(t *testing.T, parse func([]byte, string, ...ParseOption) (*Policy, error), cases []warningCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []*ParseError
			got, err := parse([]byte(tt.src), "gw", WithWarnings(&warnings))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			require.Len(t, warnings, 1, "got warnings %v, want one", warnings)
			assertParseError(t, warnings[0], tt.wantErr, tt.wantLine, tt.wantRule)

			_, err = parse([]byte(tt.src), "gw", Strict())
			assertParseError(t, err, tt.wantErr, tt.wantLine, tt.wantRule)
		})
	}
}

func TestSortItems(t *testing.T) {
	items := []item{
		block("service", "b", nil),
		attr("peering", AccessRead),
		block("partition", "p", []item{block("node", "n", nil), attr("mesh", AccessWrite)}),
		block("agent", "z", nil),
		attr("acl", AccessRead),
		block("service", "a", nil),
		{kind: itemBlock, name: "zzz", labels: []string{"x"}},
		{kind: itemBlock, name: "aaa", labels: []string{"x"}},
	}
	sortItems(items)
	var got []string
	for _, it := range items {
		got = append(got, it.name+" "+it.value+firstLabel(it))
	}
	assert.Equal(t, []string{"acl read", "peering read", "agent z", "service a", "service b", "partition p", "aaa x", "zzz x"}, got)
	assert.Equal(t, "mesh", items[5].body[0].name, "got %q first in the partition body, want its attribute", items[5].body[0].name)
}

func firstLabel(it item) string {
	if len(it.labels) == 0 {
		return ""
	}
	return it.labels[0]
}
