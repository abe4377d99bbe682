package main

import (
	"errors"
	"flag"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagValues(t *testing.T) {
	tests := []struct {
		name    string
		value   flag.Value
		texts   []string
		want    any
		wantErr error
	}{
		{name: "meta", value: new(keyValues), texts: []string{"a=1", "b=x=y"}, want: &keyValues{"a": "1", "b": "x=y"}},
		{name: "meta empty value", value: new(keyValues), texts: []string{"a="}, want: &keyValues{"a": ""}},
		{name: "meta twice", value: new(keyValues), texts: []string{"a=1", "a=2"}, wantErr: errDuplicateKey},
		{name: "proxy config JSON and text", value: new(proxyConfig), texts: []string{"n=5", `l=["a"]`, "s=STRICT_DNS"},
			want: &proxyConfig{"n": float64(5), "l": []any{"a"}, "s": "STRICT_DNS"}},
		{name: "proxy config twice", value: new(proxyConfig), texts: []string{"n=5", "n=6"}, wantErr: errDuplicateKey},
		{name: "bind", value: new(bindAddresses), texts: []string{"wan=198.51.100.1:443", "v6=[2001:db8::1]:8443"},
			want: &bindAddresses{"wan": {Address: "198.51.100.1", Port: 443}, "v6": {Address: "2001:db8::1", Port: 8443}}},
		{name: "bind twice", value: new(bindAddresses), texts: []string{"a=10.0.0.1:1", "a=10.0.0.1:2"}, wantErr: errDuplicateKey},
		{name: "tags", value: new(stringList), texts: []string{"a", "a"}, want: &stringList{"a", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			for _, text := range tt.texts {
				if err = tt.value.Set(text); err != nil {
					break
				}
			}
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.value)
		})
	}
}

func TestFlagValueSyntax(t *testing.T) {
	tests := []struct {
		name  string
		value flag.Value
		text  string
		want  string
	}{
		{"meta without =", new(keyValues), "team", `want key=value, not "team"`},
		{"meta without key", new(keyValues), "=x", `want key=value, not "=x"`},
		{"proxy config without =", new(proxyConfig), "x", `want key=value, not "x"`},
		{"bind without name", new(bindAddresses), "10.0.0.1:443", `want name=ip:port, not "10.0.0.1:443"`},
		{"bind without port", new(bindAddresses), "a=10.0.0.1", `want host:port, not "10.0.0.1"`},
		{"bind port not a number", new(bindAddresses), "a=10.0.0.1:https", `port of "10.0.0.1:https" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.value.Set(tt.text)
			require.Error(t, err)
			assert.False(t, errors.Is(err, errDuplicateKey))
			assert.Equal(t, tt.want, err.Error())
		})
	}
	var b bindAddresses
	require.NoError(t, b.Set("a=10.0.0.1:70000"), "the port's range is the registration's to check")
	assert.Equal(t, api.ServiceAddress{Address: "10.0.0.1", Port: 70000}, b["a"])
}
