package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// checkJSONLike reports whether v can be rendered both as JSON and as HCL: a string,
// bool, finite number, or a slice, array or string-keyed map of those. null is
// refused because HCL as Consul reads it has no null.
func checkJSONLike(v any) error {
	if _, ok := v.(json.Number); ok {
		return nil
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch kind(rv) {
	case reflect.Invalid:
		return errors.New("null is not supported")
	case reflect.String, reflect.Bool, reflect.Int, reflect.Uint:
		return nil
	case reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("number %v is not finite", f)
		}
		return nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return errors.New("byte slices are not supported")
		}
		for i := range rv.Len() {
			if err := checkJSONLike(rv.Index(i).Interface()); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("map keys of type %s are not supported", rv.Type().Key())
		}
		for it := rv.MapRange(); it.Next(); {
			if err := checkJSONLike(it.Value().Interface()); err != nil {
				return fmt.Errorf("[%s]: %w", it.Key().String(), err)
			}
		}
		return nil
	}
	return fmt.Errorf("values of type %s are not supported", rv.Type())
}
