package meshconfig_test

import (
	"testing"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func TestParseYAMLLines(t *testing.T) {
	checkLines(t, meshconfig.ParseYAML, []lineCase{
		// yaml.v3 reports the line where the construct it could not finish starts.
		{name: "unclosed flow", in: "Kind: mesh\nPeering: {\n", want: meshconfig.ErrSyntax, line: 2},
		{name: "bad indentation", in: "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: true\n PeerThroughMeshGateways: false\n",
			want: meshconfig.ErrSyntax, line: 3},
		{name: "key twice", in: "Kind: mesh\nPartition: a\nPartition: b\n", want: meshconfig.ErrSyntax, line: 3},
		{name: "not a mapping", in: "- Kind: mesh\n", want: meshconfig.ErrSyntax, line: 1},
		{name: "two documents", in: "Kind: mesh\n---\nKind: mesh\n", want: meshconfig.ErrSyntax, line: 2},
		{name: "wrong kind", in: "# comment\nKind: service-router\n", want: meshconfig.ErrWrongKind, line: 2},
		{name: "unknown nested key", in: "Kind: mesh\nHTTP:\n  Incoming:\n    Normalize: true\n", want: meshconfig.ErrUnknownKey, line: 4},
		{name: "bad value", in: "Kind: mesh\nPeering:\n  PeerThroughMeshGateways: [true]\n", want: meshconfig.ErrInvalidValue, line: 3},
	})
}
