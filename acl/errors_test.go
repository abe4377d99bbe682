package acl

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"parse error with rule", &ParseError{Filename: "p.hcl", Line: 3, Rule: "peering", Err: ErrInvalidAccess}, "acl: p.hcl:3: peering: invalid access level"},
		{"parse error without rule", &ParseError{Filename: "p.hcl", Line: 1, Err: ErrSyntax}, "acl: p.hcl:1: syntax error"},
		{"validation error", &ValidationError{Field: `service "web" > policy`, Err: ErrMissingPolicy}, `acl: service "web" > policy: missing policy`},
		{"nil cause", &ValidationError{Field: "acl"}, "acl: acl: <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestErrorsUnwrap(t *testing.T) {
	cause := errors.New("cause")
	assert.ErrorIs(t, &ParseError{Err: cause}, cause)
	assert.ErrorIs(t, &ValidationError{Err: cause}, cause)
}
