package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAccess(t *testing.T) {
	tests := []struct {
		in        string
		allowList bool
		want      Access
		wantErr   error
	}{
		{"read", false, AccessRead, nil},
		{"WRITE", false, AccessWrite, nil},
		{"Deny", false, AccessDeny, nil},
		{"list", true, AccessList, nil},
		{"list", false, AccessUnset, ErrInvalidAccess},
		{"", false, AccessUnset, ErrInvalidAccess},
		{"none", true, AccessUnset, ErrInvalidAccess},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAccess(tt.in, tt.allowList)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAccessGrants(t *testing.T) {
	levels := []Access{AccessUnset, AccessDeny, AccessRead, AccessList, AccessWrite}
	// want[rule][need], following Consul's enforce().
	want := map[Access]map[Access]bool{
		AccessUnset: {},
		AccessDeny:  {},
		AccessRead:  {AccessRead: true},
		AccessList:  {AccessRead: true, AccessList: true},
		AccessWrite: {AccessRead: true, AccessList: true, AccessWrite: true, AccessDeny: true, AccessUnset: true},
	}
	for _, rule := range levels {
		for _, need := range []Access{AccessRead, AccessList, AccessWrite} {
			t.Run(string(rule)+"/"+string(need), func(t *testing.T) {
				assert.Equal(t, want[rule][need], rule.Grants(need), "got %v for %q granting %q", rule.Grants(need), rule, need)
			})
		}
	}
}

func TestMergePrecedence(t *testing.T) {
	tests := []struct {
		a, b, want Access
	}{
		{AccessRead, AccessWrite, AccessWrite},
		{AccessWrite, AccessDeny, AccessDeny},
		{AccessDeny, AccessWrite, AccessDeny},
		{AccessList, AccessRead, AccessList},
		{AccessWrite, AccessList, AccessWrite},
		{AccessUnset, AccessRead, AccessRead},
		{AccessRead, AccessUnset, AccessRead},
	}
	for _, tt := range tests {
		t.Run(string(tt.a)+"+"+string(tt.b), func(t *testing.T) {
			assert.Equal(t, tt.want, merge(tt.a, tt.b))
		})
	}
}
