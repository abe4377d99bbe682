package servicedef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/peeringgw/peeringgw/gateway"
)

// RenderJSON validates r and returns it as a JSON service definition,
// the form `consul services register` and the agent's -config-file read:
//
//	{
//	  "service": {
//	    "name": "mesh-gateway",
//	    "kind": "mesh-gateway",
//	    "port": 8443,
//	    "proxy": {
//	      "config": {
//	        "connect_timeout_ms": 2500
//	      }
//	    }
//	  }
//	}
//
// Keys are snake_case, as the agent's configuration reads them; only what is set is
// written (the name always). The text is indented by two spaces and ends with a newline.
func RenderJSON(r gateway.Registration) ([]byte, error) {
	def, err := definition(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(def); err != nil {
		return nil, fmt.Errorf("servicedef: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseJSON reads a JSON service definition for a mesh gateway, as [RenderJSON] writes
// it. Keys match in any letter case, as in Consul. Keys a Registration cannot represent,
// values of the wrong type and Proxy.Config values [gateway.ParseOptions] rejects are
// [*gateway.ValidationError] values wrapping [gateway.ErrDefinition] or the option's
// error; Proxy.Config keys the gateway package does not know go to Options.Extra.
// ParseJSON does not validate the registration; call [gateway.Registration.Validate].
func ParseJSON(src []byte) (gateway.Registration, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return gateway.Registration{}, invalid("json", "", fmt.Errorf("%w: %w", gateway.ErrDefinition, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return gateway.Registration{}, invalid("json", "", fmt.Errorf("%w: data after the top-level object", gateway.ErrDefinition))
	}
	norm, err := normalizeNumbers(doc)
	if err != nil {
		return gateway.Registration{}, invalid("json", "", fmt.Errorf("%w: %w", gateway.ErrDefinition, err))
	}
	m, _ := norm.(map[string]any)
	return decodeDefinition(m)
}
