package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/xds"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// errDuplicateKey is returned by the key=value flags for a key given twice.
var errDuplicateKey = errors.New("key given twice")

// keyValues is a repeatable key=value flag. Values are strings.
type keyValues map[string]string

func (kv *keyValues) String() string {
	parts := make([]string, 0, len(*kv))
	for k, v := range *kv {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (kv *keyValues) Set(s string) error {
	return addPair((*map[string]string)(kv), s, "key=value", func(v string) (string, error) { return v, nil })
}

// addPair adds "key=value" text s to *m, the value converted by conv. It refuses a
// missing key and a key given twice; form shows the expected text in errors.
func addPair[V any](m *map[string]V, s, form string, conv func(string) (V, error)) error {
	k, raw, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want %s, not %q", form, s)
	}
	if _, dup := (*m)[k]; dup {
		return fmt.Errorf("%w: %q", errDuplicateKey, k)
	}
	v, err := conv(raw)
	if err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
	return nil
}

// proxyConfig is a repeatable key=value flag for Proxy.Config entries: a value that is
// valid JSON (a number, true, a list, an object) is decoded, anything else is a string.
type proxyConfig map[string]any

func (pc *proxyConfig) String() string {
	b, err := json.Marshal(*pc)
	if err != nil {
		return ""
	}
	return string(b)
}

func (pc *proxyConfig) Set(s string) error {
	return addPair((*map[string]any)(pc), s, "key=value", func(raw string) (any, error) {
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return raw, nil
		}
		return v, nil
	})
}

// bindAddresses is the repeatable -bind name=ip:port flag. Set checks the syntax only;
// whether the address is an IP and the port in range is for the registration to check.
type bindAddresses map[string]api.ServiceAddress

func (b *bindAddresses) String() string {
	parts := make([]string, 0, len(*b))
	for name, a := range *b {
		parts = append(parts, name+"="+net.JoinHostPort(a.Address, strconv.Itoa(a.Port)))
	}
	return strings.Join(parts, ",")
}

func (b *bindAddresses) Set(s string) error {
	return addPair((*map[string]api.ServiceAddress)(b), s, "name=ip:port", func(hostPort string) (api.ServiceAddress, error) {
		host, port, err := splitHostPort(hostPort)
		return api.ServiceAddress{Address: host, Port: port}, err
	})
}

// splitHostPort splits "host:port" with a decimal port. The port's range is not checked.
func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port, not %q", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port of %q is not a number", s)
	}
	return host, port, nil
}

// consulVersion is the -consul-version flag: the Consul release whose output generation
// reproduces. Unset, generation follows the agent's version, or the library's default.
type consulVersion struct{ v *xds.ConsulVersion }

func (f *consulVersion) register(fs *flag.FlagSet) {
	fs.Var(f, "consul-version", "Consul `release` to generate as, 1.14.0 to 1.22.x (default the agent's version, else "+
		xds.DefaultConsulVersion.String()+")")
}

func (f *consulVersion) String() string {
	if f == nil || f.v == nil {
		return ""
	}
	return f.v.String()
}

func (f *consulVersion) Set(s string) error {
	v, err := xds.ParseConsulVersion(s)
	if err != nil {
		return err
	}
	f.v = &v
	return nil
}

// option returns the generation option the flag gives, nil when unset.
func (f *consulVersion) option() *xds.VersionOption {
	if f.v == nil {
		return nil
	}
	o := xds.WithConsulVersion(*f.v)
	return &o
}
