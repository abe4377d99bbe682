package faultproxy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peeringgw/peeringgw/internal/faultproxy"
)

// TestFaultString checks the names of the faults.
func TestFaultString(t *testing.T) {
	tests := []struct {
		fault faultproxy.Fault
		want  string
		code  int
	}{
		{faultproxy.Pass, "pass", 0},
		{faultproxy.Refuse, "refuse", 0},
		{faultproxy.Reset, "reset", 0},
		{faultproxy.Hang, "hang", 0},
		{faultproxy.Status(500), "status 500", 500},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.fault.String(), "got %q, want %q", tt.fault.String(), tt.want)
			assert.Equal(t, tt.code, tt.fault.Code(), "got code %d, want %d", tt.fault.Code(), tt.code)
		})
	}
}
