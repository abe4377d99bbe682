package meshconfig_test

import (
	"testing"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func TestParseHCLLines(t *testing.T) {
	checkLines(t, meshconfig.ParseHCL, []lineCase{
		{name: "unclosed block", in: "Kind = \"mesh\"\nPeering {\n", want: meshconfig.ErrSyntax, line: 2},
		{name: "missing value", in: "Kind = \"mesh\"\n\nPartition =\n", want: meshconfig.ErrSyntax, line: 3},
		{name: "attribute twice", in: "Kind = \"mesh\"\nPartition = \"a\"\nPartition = \"b\"\n", want: meshconfig.ErrSyntax, line: 3},
		{name: "variable", in: "Kind = \"mesh\"\nPartition = var.partition\n", want: meshconfig.ErrInvalidValue, line: 2},
		{name: "function", in: "Kind = \"mesh\"\nPartition = lower(\"AP1\")\n", want: meshconfig.ErrInvalidValue, line: 2},
		{name: "block label", in: "Kind = \"mesh\"\nPeering \"x\" {\n}\n", want: meshconfig.ErrInvalidValue, line: 2},
		{name: "block twice", in: "Kind = \"mesh\"\nPeering {\n}\nPeering {\n}\n", want: meshconfig.ErrDuplicateKey, line: 4},
		{name: "wrong kind", in: "\nKind = \"proxy-defaults\"\n", want: meshconfig.ErrWrongKind, line: 2},
		{name: "unknown nested key", in: "Kind = \"mesh\"\nTLS {\n  Incoming {\n    MinVersion = \"TLSv1_2\"\n  }\n}\n",
			want: meshconfig.ErrUnknownKey, line: 4},
		{name: "unknown key in object attribute", in: "Kind = \"mesh\"\nPeering = {\n  Enabled = true\n}\n",
			want: meshconfig.ErrUnknownKey, line: 2},
		{name: "bad value", in: "Kind = \"mesh\"\nPeering {\n\n  PeerThroughMeshGateways = \"nope\"\n}\n",
			want: meshconfig.ErrInvalidValue, line: 4},
		{name: "missing kind", in: "Peering {\n}\n", want: meshconfig.ErrMissingKind, line: 0},
	})
}
