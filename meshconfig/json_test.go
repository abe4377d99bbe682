package meshconfig_test

import (
	"testing"

	"github.com/peeringgw/peeringgw/meshconfig"
)

func TestParseJSONLines(t *testing.T) {
	checkLines(t, meshconfig.ParseJSON, []lineCase{
		{name: "bad character", in: "{\n  \"Kind\": \"mesh\",\n  \"Peering\": x\n}\n", want: meshconfig.ErrSyntax, line: 3},
		{name: "truncated", in: "{\n  \"Kind\": \"mesh\",\n", want: meshconfig.ErrSyntax, line: 3},
		{name: "empty", in: "", want: meshconfig.ErrSyntax, line: 1},
		{name: "not an object", in: "\n[\"mesh\"]\n", want: meshconfig.ErrSyntax, line: 2},
		{name: "trailing data", in: "{\"Kind\": \"mesh\"}\n{}\n", want: meshconfig.ErrSyntax, line: 2},
		// encoding/json reports no key positions.
		{name: "unknown key", in: "{\n  \"Kind\": \"mesh\",\n  \"Mode\": \"local\"\n}\n", want: meshconfig.ErrUnknownKey, line: 0},
	})
}
