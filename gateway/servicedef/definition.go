package servicedef

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/peeringgw/peeringgw/gateway"
)

// A service definition file, as Consul's agent reads it (agent/config): one "service"
// object with snake_case keys, matched in any letter case, and strictly typed values. The
// keys below are the subset a Registration can represent.
var (
	definitionKeys = []string{"service"}
	serviceKeys    = []string{"name", "id", "kind", "address", "port", "tags", "tagged_addresses", "meta", "partition", "proxy"}
	addressKeys    = []string{"address", "port"}
	proxyKeys      = []string{"config"}
	taggedKeys     = []string{"lan", "wan"}
)

// decodeDefinition turns a parsed service definition (from JSON or HCL, with numbers as
// int or float64) into a Registration. Every problem is a *gateway.ValidationError
// wrapping gateway.ErrDefinition, or a Proxy.Config problem of gateway.ParseOptions
// other than an unknown key.
func decodeDefinition(doc map[string]any) (gateway.Registration, error) {
	d := &definitionDecoder{}
	top := d.fields("", doc, definitionKeys)
	svc := d.object("service", top["service"])
	if svc == nil {
		if _, ok := top["service"]; !ok {
			d.fail("service", "", "missing")
		}
		return gateway.Registration{}, errors.Join(d.errs...)
	}
	f := d.fields("service", svc, serviceKeys)
	r := gateway.Registration{
		Name:      d.str("service.name", f["name"]),
		ID:        d.str("service.id", f["id"]),
		Address:   d.str("service.address", f["address"]),
		Port:      d.integer("service.port", f["port"]),
		Tags:      d.strings("service.tags", f["tags"]),
		Meta:      d.stringMap("service.meta", f["meta"]),
		Partition: d.str("service.partition", f["partition"]),
	}
	if kind := d.str("service.kind", f["kind"]); kind != string(api.ServiceKindMeshGateway) {
		d.fail("service.kind", kind, "want "+string(api.ServiceKindMeshGateway))
	}
	if tagged := d.object("service.tagged_addresses", f["tagged_addresses"]); tagged != nil {
		t := d.fields("service.tagged_addresses", tagged, taggedKeys)
		r.LAN = d.address("service.tagged_addresses.lan", t["lan"])
		r.WAN = d.address("service.tagged_addresses.wan", t["wan"])
	}
	if proxy := d.object("service.proxy", f["proxy"]); proxy != nil {
		p := d.fields("service.proxy", proxy, proxyKeys)
		r.Options = d.options("service.proxy.config", p["config"])
	}
	return r, errors.Join(d.errs...)
}

// definitionDecoder converts parsed values, collecting every problem.
type definitionDecoder struct {
	errs []error
}

func (d *definitionDecoder) fail(field, value, msg string) {
	d.errs = append(d.errs, invalid(field, value, fmt.Errorf("%w: %s", gateway.ErrDefinition, msg)))
}

// fields returns m keyed by the lower-cased keys, reporting keys outside allowed and
// keys given twice in different letter cases.
func (d *definitionDecoder) fields(path string, m map[string]any, allowed []string) map[string]any {
	out := make(map[string]any, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lk := strings.ToLower(k)
		field := joinPath(path, k)
		switch _, dup := out[lk]; {
		case !slices.Contains(allowed, lk):
			d.fail(field, "", "unsupported key")
		case dup:
			d.fail(field, "", "key given twice")
		default:
			out[lk] = m[k]
		}
	}
	return out
}

func (d *definitionDecoder) str(field string, v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.fail(field, fmt.Sprint(v), "want a string")
	}
	return s
}

func (d *definitionDecoder) integer(field string, v any) int {
	if v == nil {
		return 0
	}
	n, ok := v.(int)
	if !ok {
		d.fail(field, fmt.Sprint(v), "want an integer")
	}
	return n
}

func (d *definitionDecoder) strings(field string, v any) []string {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		d.fail(field, fmt.Sprint(v), "want a list of strings")
		return nil
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = d.str(fmt.Sprintf("%s[%d]", field, i), e)
	}
	return out
}

func (d *definitionDecoder) object(field string, v any) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(field, fmt.Sprint(v), "want an object")
	}
	return m
}

func (d *definitionDecoder) stringMap(field string, v any) map[string]string {
	m := d.object(field, v)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		out[k] = d.str(field+"."+k, e)
	}
	return out
}

func (d *definitionDecoder) address(field string, v any) *api.ServiceAddress {
	m := d.object(field, v)
	if m == nil {
		return nil
	}
	f := d.fields(field, m, addressKeys)
	return &api.ServiceAddress{
		Address: d.str(field+".address", f["address"]),
		Port:    d.integer(field+".port", f["port"]),
	}
}

// options decodes Proxy.Config with gateway.ParseOptions. Unknown keys are kept in
// Extra, as Consul keeps them; every other problem is an error, with the key path
// prefixed.
func (d *definitionDecoder) options(field string, v any) gateway.Options {
	m := d.object(field, v)
	if m == nil {
		return gateway.Options{}
	}
	opts, problems := gateway.ParseOptions(m)
	for _, p := range problems {
		if errors.Is(p, gateway.ErrUnknownOption) {
			continue
		}
		var ve *gateway.ValidationError
		if errors.As(p, &ve) {
			c := *ve
			c.Field = field + "." + c.Field
			p = &c
		}
		d.errs = append(d.errs, p)
	}
	return opts
}

// jsonDefinition is a service definition file as RenderJSON writes it.
type jsonDefinition struct {
	Service jsonService `json:"service"`
}

type jsonService struct {
	Name            string                 `json:"name"`
	ID              string                 `json:"id,omitempty"`
	Kind            api.ServiceKind        `json:"kind"`
	Address         string                 `json:"address,omitempty"`
	Port            int                    `json:"port"`
	Tags            []string               `json:"tags,omitempty"`
	TaggedAddresses map[string]jsonAddress `json:"tagged_addresses,omitempty"`
	Meta            map[string]string      `json:"meta,omitempty"`
	Partition       string                 `json:"partition,omitempty"`
	Proxy           *jsonProxy             `json:"proxy,omitempty"`
}

type jsonAddress struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
}

type jsonProxy struct {
	Config map[string]any `json:"config"`
}

// definition validates r and returns it as a service definition file: what r.Build
// returns, with the ID left out when r has none.
func definition(r gateway.Registration) (jsonDefinition, error) {
	reg, err := r.Build()
	if err != nil {
		return jsonDefinition{}, err
	}
	s := jsonService{
		Name:      reg.Name,
		ID:        r.ID,
		Kind:      reg.Kind,
		Address:   reg.Address,
		Port:      reg.Port,
		Tags:      reg.Tags,
		Meta:      reg.Meta,
		Partition: reg.Partition,
	}
	for tag, a := range reg.TaggedAddresses {
		if s.TaggedAddresses == nil {
			s.TaggedAddresses = make(map[string]jsonAddress, len(reg.TaggedAddresses))
		}
		s.TaggedAddresses[tag] = jsonAddress(a)
	}
	if reg.Proxy != nil {
		s.Proxy = &jsonProxy{Config: reg.Proxy.Config}
	}
	return jsonDefinition{Service: s}, nil
}

// invalid returns a *gateway.ValidationError for field and value caused by err.
func invalid(field, value string, err error) *gateway.ValidationError {
	return &gateway.ValidationError{Field: field, Value: value, Err: err}
}

// joinPath returns the key path of name in path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
