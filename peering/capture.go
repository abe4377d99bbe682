package peering

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/hashicorp/consul/api"
)

// WriteCapture writes s as a state capture: indented JSON whose fields have exactly the
// shapes of Consul's HTTP API (see [State]), which [DecodeState] reads back.
//
// A State holds no ACL token and no peering establishment secret (Consul's API returns
// neither), and WriteCapture keeps every field a user set, Meta included. The one part of
// a State that may carry credentials is the definition of the health checks of the
// servers' nodes and services: an HTTP check may send an Authorization header or a body,
// and its URL may hold a password. WriteCapture replaces those header values and bodies
// with "[redacted]" and the URL passwords with "xxxxx". The xds package does not read
// checks, so a capture still gives the same resources. s itself is not changed.
func WriteCapture(w io.Writer, s *State) error {
	if s == nil {
		return fmt.Errorf("%w: nil State", ErrBadState)
	}
	c := cloneState(s)
	for _, e := range c.Servers {
		if e != nil {
			redactChecks(e.Checks)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("peering: write capture: %w", err)
	}
	return nil
}

// redactChecks removes what may be credentials from check definitions.
func redactChecks(checks api.HealthChecks) {
	for _, c := range checks {
		if c == nil {
			continue
		}
		d := &c.Definition
		for _, values := range d.Header {
			for i := range values {
				values[i] = redacted
			}
		}
		if d.Body != "" {
			d.Body = redacted
		}
		d.HTTP = redactURL(d.HTTP)
	}
}

// redactURL hides the password of a URL and leaves other URLs as they are; a URL that
// does not parse is hidden whole.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	return u.Redacted()
}
