package gateway

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckJSONLike(t *testing.T) {
	tests := []struct {
		name string
		in   any
		ok   bool
	}{
		{"string", "s", true},
		{"json number", json.Number("1"), true},
		{"nested", map[string][]any{"a": {1, uint8(2), 2.5, true, map[string]string{"b": "c"}}}, true},
		{"null", nil, false},
		{"NaN", math.NaN(), false},
		{"bytes", []byte("x"), false},
		{"int keys", map[int]string{}, false},
		{"channel", make(chan int), false},
		{"nested null", []any{"a", nil}, false},
	}
	for _, tt := range tests {
		err := checkJSONLike(tt.in)
		assert.Equal(t, tt.ok, err == nil, "%s: got %v", tt.name, err)
	}
}
