package peering

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"

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
	c := *s
	c.Servers = redactServers(s.Servers)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("peering: write capture: %w", err)
	}
	return nil
}

// redactServers returns servers with what may be credentials removed from their check
// definitions. It copies what it changes (the entries, their check lists and checks)
// and shares the rest, as the servers may be shared with other States.
func redactServers(servers []*api.ServiceEntry) []*api.ServiceEntry {
	if servers == nil {
		return nil
	}
	out := make([]*api.ServiceEntry, len(servers))
	for i, e := range servers {
		if e == nil || len(e.Checks) == 0 {
			out[i] = e
			continue
		}
		c := *e
		c.Checks = redactChecks(e.Checks)
		out[i] = &c
	}
	return out
}

// redactChecks returns copies of checks without what may be credentials in their
// definitions.
func redactChecks(checks api.HealthChecks) api.HealthChecks {
	out := make(api.HealthChecks, len(checks))
	for i, check := range checks {
		if check == nil {
			continue
		}
		c := *check
		d := &c.Definition
		if d.Header != nil {
			header := make(map[string][]string, len(d.Header))
			for name, values := range d.Header {
				if values != nil {
					values = slices.Repeat([]string{redacted}, len(values))
				}
				header[name] = values
			}
			d.Header = header
		}
		if d.Body != "" {
			d.Body = redacted
		}
		d.HTTP = redactURL(d.HTTP)
		out[i] = &c
	}
	return out
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
