package servicedef

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// JSON and HCL numbers become the same Go values: int when integral and in range,
// float64 otherwise.
func TestNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"8443", 8443},
		{"-1", -1},
		{"2.5", 2.5},
		{"1e3", 1000},
		{"9223372036854775808", 9223372036854775808.0},
	}
	for _, tt := range tests {
		fromJSON, err := normalizeNumbers(json.Number(tt.in))
		require.NoError(t, err)
		assert.Equal(t, tt.want, fromJSON, "JSON %s", tt.in)
		fromHCL, err := fromCty(cty.MustParseNumberVal(tt.in))
		require.NoError(t, err)
		assert.Equal(t, tt.want, fromHCL, "HCL %s", tt.in)
	}
}

func TestNormalizeNumbersNested(t *testing.T) {
	got, err := normalizeNumbers(map[string]any{"a": []any{json.Number("1"), "s", map[string]any{"b": json.Number("0.5")}}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{1, "s", map[string]any{"b": 0.5}}}, got)
}
