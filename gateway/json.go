package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RenderJSON validates the registration and returns it as a JSON service definition,
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
func (r Registration) RenderJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.definition()); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseJSON reads a JSON service definition for a mesh gateway, as
// [Registration.RenderJSON] writes it. Keys match in any letter case, as in Consul. Keys
// a Registration cannot represent, values of the wrong type and Proxy.Config values
// [ParseOptions] rejects are errors wrapping [ErrDefinition] or the option's error;
// Proxy.Config keys this package does not know go to Options.Extra. ParseJSON does not
// validate the registration; call [Registration.Validate].
func ParseJSON(src []byte) (Registration, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return Registration{}, invalid("json", "", fmt.Errorf("%w: %w", ErrDefinition, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Registration{}, invalid("json", "", fmt.Errorf("%w: data after the top-level object", ErrDefinition))
	}
	norm, err := normalizeNumbers(doc)
	if err != nil {
		return Registration{}, invalid("json", "", fmt.Errorf("%w: %w", ErrDefinition, err))
	}
	m, _ := norm.(map[string]any)
	return decodeDefinition(m)
}
