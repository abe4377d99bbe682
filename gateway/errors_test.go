package gateway

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidationError(t *testing.T) {
	tests := []struct {
		name string
		err  *ValidationError
		want string
	}{
		{"with value", invalid("WAN.Port", "70000", ErrPortRange), `gateway: WAN.Port "70000": port out of range 1..65535`},
		{"without value", invalid("Meta", "", fmt.Errorf("%w: more than 64 pairs", ErrMeta)), `gateway: Meta: invalid service meta: more than 64 pairs`},
		{"foreign cause", invalid("x", "", errors.New("boom")), `gateway: x: boom`},
		{"no cause", &ValidationError{Field: "x"}, `gateway: x: invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
	assert.ErrorIs(t, invalid("Port", "0", ErrPortRange), ErrPortRange)
	assert.NoError(t, (&ValidationError{}).Unwrap())
}
