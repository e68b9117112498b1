package method

import (
	"fmt"
	"strconv"
	"strings"
)

// Int reads an integer param (accepting int, int64, float64 with no fraction, or a numeric
// string), returning def when absent.
func (r Request) Int(key string, def int) (int, error) {
	v, ok := r.Params[key]
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("param %s: want an integer, got %v", key, v)
}

// Float reads a float param (int, float64 or numeric string), returning def when absent.
func (r Request) Float(key string, def float64) (float64, error) {
	v, ok := r.Params[key]
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("param %s: want a number, got %v", key, v)
}

// String reads a string param, returning def when absent.
func (r Request) String(key, def string) (string, error) {
	v, ok := r.Params[key]
	if !ok {
		return def, nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("param %s: want a string, got %v", key, v)
}

// Bool reads a boolean param (bool, "true"/"false"/"1"/"0" and the other forms of
// strconv.ParseBool, or the numbers 0 and 1), returning def when absent or nil.
func (r Request) Bool(key string, def bool) (bool, error) {
	v := r.Params[key]
	if v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case int:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	}
	return false, fmt.Errorf("param %s: want true or false, got %v", key, v)
}
