package servicedef

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/zclconf/go-cty/cty"
)

// normalizeNumbers returns v with every json.Number replaced by an int when it is an
// integer that fits, and by a float64 otherwise, so that a value read from JSON has the
// same Go types as the same value read from HCL.
func normalizeNumbers(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		f, ok := new(big.Float).SetString(t.String())
		if !ok {
			return nil, fmt.Errorf("bad number %q", t)
		}
		return bigNumber(f), nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalizeNumbers(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalizeNumbers(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return v, nil
}

// bigNumber returns f as an int when it is an integer that fits, and as a float64
// otherwise.
func bigNumber(f *big.Float) any {
	if f.IsInt() {
		if i, acc := f.Int64(); acc == big.Exact && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
	}
	x, _ := f.Float64()
	return x
}

// fromCty converts an HCL value to the Go value the JSON decoder would give for the
// same data (numbers as by normalizeNumbers).
func fromCty(v cty.Value) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsWhollyKnown() {
		return nil, errors.New("value is not known")
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Bool:
		return v.True(), nil
	case t == cty.Number:
		return bigNumber(v.AsBigFloat()), nil
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			g, err := fromCty(e)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case t.IsObjectType() || t.IsMapType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			g, err := fromCty(e)
			if err != nil {
				return nil, err
			}
			out[k.AsString()] = g
		}
		return out, nil
	}
	return nil, fmt.Errorf("values of type %s are not supported", t.FriendlyName())
}
