package gateway

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
)

// optionSpec describes one typed option: its canonical key, its legacy alias, how Consul
// decodes it and where it goes in Options.
type optionSpec struct {
	key, alias string
	// xds marks the keys the agent decodes for xDS. Their decoder also accepts a
	// one-element list in place of a value at every level (Consul's
	// HookWeakDecodeFromSlice); the bootstrap decoder of `consul connect envoy` does not.
	xds    bool
	decode decoder
}

// optionSpecs lists every typed option in the order ParseOptions decodes them.
var optionSpecs = []optionSpec{
	{key: keyConnectTimeout, xds: true, decode: intOption(func(o *Options) *int { return &o.ConnectTimeoutMs })},
	{key: keyBindTagged, alias: legacyAlias(keyBindTagged), xds: true, decode: boolOption(func(o *Options) *bool { return &o.BindTaggedAddresses })},
	{key: keyBindAddresses, alias: legacyAlias(keyBindAddresses), xds: true, decode: decodeBindAddresses},
	{key: keyNoDefaultBind, alias: legacyAlias(keyNoDefaultBind), xds: true, decode: boolOption(func(o *Options) *bool { return &o.NoDefaultBind })},
	{key: keyDNSDiscoveryType, xds: true, decode: stringOption(func(o *Options) *string { return &o.DNSDiscoveryType })},
	{key: keyKeepalive, xds: true, decode: boolOption(func(o *Options) *bool { return &o.TCPKeepalive })},
	{key: keyKeepaliveTime, xds: true, decode: intOption(func(o *Options) *int { return &o.TCPKeepaliveTime })},
	{key: keyKeepaliveInterval, xds: true, decode: intOption(func(o *Options) *int { return &o.TCPKeepaliveInterval })},
	{key: keyKeepaliveProbes, xds: true, decode: intOption(func(o *Options) *int { return &o.TCPKeepaliveProbes })},
	{key: keyXDSFetchTimeout, xds: true, decode: decodeXDSFetchTimeout},
	{key: keyStatsdURL, decode: stringOption(func(o *Options) *string { return &o.StatsdURL })},
	{key: keyDogstatsdURL, decode: stringOption(func(o *Options) *string { return &o.DogstatsdURL })},
	{key: keyStatsTags, decode: decodeStatsTags},
	{key: keyPrometheusBindAddr, decode: stringOption(func(o *Options) *string { return &o.PrometheusBindAddr })},
	{key: keyStatsBindAddr, decode: stringOption(func(o *Options) *string { return &o.StatsBindAddr })},
	{key: keyBootstrapTemplate, decode: stringOption(func(o *Options) *string { return &o.BootstrapTemplate })},
	{key: keyStaticClustersJSON, decode: stringOption(func(o *Options) *string { return &o.StaticClustersJSON })},
	{key: keyStaticListenersJSON, decode: stringOption(func(o *Options) *string { return &o.StaticListenersJSON })},
	{key: keyStatsSinksJSON, decode: stringOption(func(o *Options) *string { return &o.StatsSinksJSON })},
	{key: keyStatsConfigJSON, decode: stringOption(func(o *Options) *string { return &o.StatsConfigJSON })},
	{key: keyStatsFlushInterval, decode: stringOption(func(o *Options) *string { return &o.StatsFlushInterval })},
	{key: keyTracingJSON, decode: stringOption(func(o *Options) *string { return &o.TracingJSON })},
}

// legacyAlias returns the pre-1.8 name of an envoy_gateway_* key.
func legacyAlias(key string) string {
	return legacyPrefix + strings.TrimPrefix(key, "envoy_gateway_")
}

// ParseOptions reads a mesh gateway's Proxy.Config the way Consul does and returns the
// typed options, together with every problem found, each a [*ValidationError] whose
// Field is the key path. The Options hold every value that decoded; a value that did
// not is left unset, so the result is always usable.
//
// Keys match as in Consul: exactly, else under the legacy envoy_mesh_gateway_* alias,
// else in any letter case. When several keys match one option, the first in that order
// (then in sorted order) is used and each other one is reported with
// [ErrDuplicateOption]; Consul would pick one at random.
//
// Values are converted like Consul's weakly typed decoder (mapstructure with
// WeaklyTypedInput):
//
//   - to bool: a bool; a number (true unless 0); a string accepted by
//     strconv.ParseBool (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False), the
//     empty string being false;
//   - to int: an integer; a float, truncated toward zero; a bool (1 or 0); a string
//     parsed by strconv.ParseInt with base 0 ("2500", "+2500", "0x9c4", "1_000"), the
//     empty string being 0;
//   - to string: a string; a bool ("1" or "0"); a number in decimal; a []byte;
//   - to a list of strings (envoy_stats_tags): a list whose elements convert to strings,
//     or a single value, which becomes a one-element list;
//   - to bind addresses: a map from name to a map with the keys "address" and "port"
//     (in any letter case), or a list of such maps, which are merged;
//   - for the xDS keys (all but the bootstrap ones), a one-element list stands for its
//     element at every level, as it does when Consul reads HCL.
//
// A nil value leaves the option unset, and so does a one-element list holding nil
// (on which Consul 1.14.8's decoder panics); a nil element of envoy_stats_tags is an
// empty tag. Unlike Consul, a float that is not finite or does not fit an int is
// reported with [ErrOptionType] rather than converted to an arbitrary integer, and one
// bad value never affects the others (Consul leaves connect_timeout_ms at 0 when any
// gateway key fails to decode).
//
// Keys Consul does not read for mesh gateways are not errors for Consul, which ignores
// them. ParseOptions keeps them in [Options.Extra] and reports each with
// [ErrUnknownOption], so a caller can choose to warn, fail, or ignore them, for example:
//
//	opts, problems := gateway.ParseOptions(svc.Proxy.Config)
//	for _, p := range problems {
//		if !errors.Is(p, gateway.ErrUnknownOption) {
//			return p
//		}
//	}
//
// ParseOptions does not check the values' domains; [Options.Validate] does.
func ParseOptions(config map[string]any) (Options, []error) {
	var (
		o        Options
		problems []error
		keys     = slices.Sorted(maps.Keys(config))
		used     = make(map[string]bool, len(config))
	)
	for _, spec := range optionSpecs {
		key, others := spec.find(keys)
		for _, other := range others {
			used[other] = true
			problems = append(problems, invalid(other, "", fmt.Errorf("%w: %s is used", ErrDuplicateOption, key)))
		}
		if key == "" {
			continue
		}
		used[key] = true
		v := config[key]
		if spec.xds {
			v = unwrapSingle(v)
		}
		if v == nil {
			continue
		}
		problems = append(problems, spec.decode(key, v, &o)...)
	}
	for _, key := range keys {
		if used[key] {
			continue
		}
		if o.Extra == nil {
			o.Extra = make(map[string]any)
		}
		o.Extra[key] = config[key]
		problems = append(problems, invalid(key, "", ErrUnknownOption))
	}
	return o, problems
}

// find returns the key of keys (sorted) that Consul uses for the option, and the other
// keys that also name it.
func (s optionSpec) find(keys []string) (string, []string) {
	best, bestRank := "", 3
	var all []string
	for _, k := range keys {
		rank := 3
		switch {
		case k == s.key:
			rank = 0
		case s.alias != "" && strings.EqualFold(k, s.alias):
			rank = 1
		case strings.EqualFold(k, s.key):
			rank = 2
		default:
			continue
		}
		all = append(all, k)
		if rank < bestRank {
			best, bestRank = k, rank
		}
	}
	others := slices.DeleteFunc(all, func(k string) bool { return k == best })
	return best, others
}

// unwrapSingle returns the element of a one-element []any or []map[string]any, and v
// otherwise, like Consul's HookWeakDecodeFromSlice.
func unwrapSingle(v any) any {
	switch s := v.(type) {
	case []any:
		if len(s) == 1 {
			return s[0]
		}
	case []map[string]any:
		if len(s) == 1 {
			return s[0]
		}
	}
	return v
}

// decoder is how an optionSpec decodes its value into Options.
type decoder func(key string, v any, o *Options) []error

// scalar returns the decoder that converts a value with conv and stores it with set.
func scalar[T any](conv func(any) (T, error), set func(*Options, T)) decoder {
	return func(key string, v any, o *Options) []error {
		x, err := conv(v)
		if err != nil {
			return []error{typeError(key, v, err)}
		}
		set(o, x)
		return nil
	}
}

func boolOption(field func(*Options) *bool) decoder {
	return scalar(weakBool, func(o *Options, b bool) { *field(o) = b })
}

func intOption(field func(*Options) *int) decoder {
	return scalar(weakInt, func(o *Options, n int) { *field(o) = n })
}

func stringOption(field func(*Options) *string) decoder {
	return scalar(weakString, func(o *Options, s string) { *field(o) = s })
}

var decodeXDSFetchTimeout = scalar(weakInt, func(o *Options, n int) { o.XDSFetchTimeoutMs = &n })

// decodeStatsTags converts a list, or a single value, to a list of strings.
func decodeStatsTags(key string, v any, o *Options) []error {
	rv := reflect.Indirect(reflect.ValueOf(v))
	var elems []any
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		// Even a []byte, whose bytes become decimal strings, as in Consul.
		elems = listElems(rv)
	case reflect.Map:
		if rv.Len() > 0 {
			return []error{typeError(key, v, fmt.Errorf("want a list of strings"))}
		}
		elems = []any{}
	default:
		elems = []any{v}
	}
	tags := make([]string, 0, len(elems))
	var errs []error
	for i, e := range elems {
		if e == nil {
			tags = append(tags, "") // Consul leaves a null element empty.
			continue
		}
		s, err := weakString(e)
		if err != nil {
			errs = append(errs, typeError(fmt.Sprintf("%s[%d]", key, i), e, err))
			continue
		}
		tags = append(tags, s)
	}
	if errs != nil {
		return errs
	}
	o.StatsTags = tags
	return nil
}

// decodeBindAddresses converts a map of name to {address, port}, or a list of such maps
// merged in order. As for every xDS key, a one-element list stands for its element at
// every level.
func decodeBindAddresses(key string, v any, o *Options) []error {
	binds := make(map[string]api.ServiceAddress)
	var errs []error
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch {
	case rv.Kind() == reflect.Map:
		errs = mergeBinds(binds, key, v)
	case isList(rv):
		for i, e := range listElems(rv) {
			errs = append(errs, mergeBinds(binds, fmt.Sprintf("%s[%d]", key, i), unwrapSingle(e))...)
		}
	default:
		return []error{typeError(key, v, fmt.Errorf("want a map of name to address"))}
	}
	if len(binds) > 0 { // an empty map binds nothing, like no map
		o.BindAddresses = binds
	}
	return errs
}

// mergeBinds decodes one map of name to address into binds.
func mergeBinds(binds map[string]api.ServiceAddress, field string, v any) []error {
	m, ok := stringMap(v)
	if !ok {
		return []error{typeError(field, v, fmt.Errorf("want a map of name to address"))}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m)) {
		a, ok, aerrs := decodeAddress(field+"["+name+"]", m[name])
		errs = append(errs, aerrs...)
		if ok {
			binds[name] = a
		}
	}
	return errs
}

// decodeAddress decodes one {address, port} map (Consul's ServiceAddress struct, whose
// fields match in any letter case). ok is false when a field does not convert; as in
// Consul, the entry is then dropped. Unknown fields are reported with ErrUnknownOption
// but keep the entry.
func decodeAddress(field string, v any) (a api.ServiceAddress, ok bool, errs []error) {
	v = unwrapSingle(v)
	if sa, ok := v.(api.ServiceAddress); ok {
		return sa, true, nil
	}
	if v == nil {
		return a, true, nil
	}
	m, isMap := stringMap(v)
	if !isMap {
		return a, false, []error{typeError(field, v, fmt.Errorf("want a map with address and port"))}
	}
	var fatal []error
	keys := slices.Sorted(maps.Keys(m))
	used := make(map[string]bool, len(keys))
	decodeField := func(name string, set func(any) error) {
		key, others := optionSpec{key: name}.find(keys)
		for _, other := range others {
			used[other] = true
			errs = append(errs, invalid(field+"."+other, "", fmt.Errorf("%w: %s is used", ErrDuplicateOption, key)))
		}
		if key == "" {
			return
		}
		used[key] = true
		fv := unwrapSingle(m[key])
		if fv == nil {
			return
		}
		if err := set(fv); err != nil {
			fatal = append(fatal, typeError(field+"."+key, fv, err))
		}
	}
	decodeField("Address", func(fv any) (err error) { a.Address, err = weakString(fv); return err })
	decodeField("Port", func(fv any) (err error) { a.Port, err = weakInt(fv); return err })
	for _, k := range keys {
		if !used[k] {
			errs = append(errs, invalid(field+"."+k, "", ErrUnknownOption))
		}
	}
	return a, fatal == nil, append(fatal, errs...)
}

// typeError reports a value that does not convert to its option's type.
func typeError(field string, v any, err error) error {
	return invalid(field, fmt.Sprint(v), fmt.Errorf("%w: %w", ErrOptionType, err))
}

// stringMap returns v as a map with string keys, if it is one.
func stringMap(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, true
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	m := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		m[it.Key().String()] = it.Value().Interface()
	}
	return m, true
}

// isList reports whether rv is a slice or array other than bytes.
func isList(rv reflect.Value) bool {
	k := rv.Kind()
	return (k == reflect.Slice || k == reflect.Array) && rv.Type().Elem().Kind() != reflect.Uint8
}

func listElems(rv reflect.Value) []any {
	elems := make([]any, rv.Len())
	for i := range elems {
		elems[i] = rv.Index(i).Interface()
	}
	return elems
}

// weakBool converts v to a bool as mapstructure's weakly typed decoder does.
func weakBool(v any) (bool, error) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch kind(rv) {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int:
		return rv.Int() != 0, nil
	case reflect.Uint:
		return rv.Uint() != 0, nil
	case reflect.Float64:
		return rv.Float() != 0, nil
	case reflect.String:
		s := rv.String()
		if s == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, fmt.Errorf("want a bool, got %q", s)
		}
		return b, nil
	}
	return false, fmt.Errorf("want a bool, got %s", typeName(rv))
}

// weakInt converts v to an int as mapstructure's weakly typed decoder does, except that
// a float outside the int range or not finite is an error.
func weakInt(v any) (int, error) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch kind(rv) {
	case reflect.Int:
		if n := rv.Int(); n >= math.MinInt && n <= math.MaxInt {
			return int(n), nil
		}
	case reflect.Uint:
		if n := rv.Uint(); n <= math.MaxInt {
			return int(n), nil
		}
	case reflect.Float64:
		// -MinInt is 2^63 on 64-bit platforms, exactly representable as a float.
		if f := math.Trunc(rv.Float()); f >= math.MinInt && f < -math.MinInt {
			return int(f), nil
		}
	case reflect.Bool:
		if rv.Bool() {
			return 1, nil
		}
		return 0, nil
	case reflect.String:
		s := rv.String()
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 0, strconv.IntSize)
		if err != nil {
			return 0, fmt.Errorf("want an integer, got %q", s)
		}
		return int(n), nil
	default:
		return 0, fmt.Errorf("want an integer, got %s", typeName(rv))
	}
	return 0, fmt.Errorf("want an integer, got %v, out of range", rv.Interface())
}

// weakString converts v to a string as mapstructure's weakly typed decoder does.
func weakString(v any) (string, error) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch kind(rv) {
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		if rv.Bool() {
			return "1", nil
		}
		return "0", nil
	case reflect.Int:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return string(b), nil
		}
	}
	return "", fmt.Errorf("want a string, got %s", typeName(rv))
}

// kind groups the integer, unsigned and float kinds as mapstructure does.
func kind(rv reflect.Value) reflect.Kind {
	switch k := rv.Kind(); {
	case k >= reflect.Int && k <= reflect.Int64:
		return reflect.Int
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return reflect.Uint
	case k == reflect.Float32 || k == reflect.Float64:
		return reflect.Float64
	default:
		return k
	}
}

func typeName(rv reflect.Value) string {
	if !rv.IsValid() {
		return "null"
	}
	switch rv.Kind() {
	case reflect.Map:
		return "a map"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return rv.Type().String()
}
