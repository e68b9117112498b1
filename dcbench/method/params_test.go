package method

import (
	"strings"
	"testing"
)

// TestBool checks every accepted form of a boolean param, the default and the error.
func TestBool(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value any
		def   bool
		want  bool
		err   bool
	}{
		{"absent", nil, true, true, false},
		{"bool", false, true, false, false},
		{"string", "true", false, true, false},
		{"string with spaces", " false ", true, false, false},
		{"string 1", "1", false, true, false},
		{"int", 1, false, true, false},
		{"float", 0.0, true, false, false},
		{"int 3", 3, false, false, true},
		{"word", "maybe", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Request{Params: map[string]any{}}
			if tc.value != nil {
				r.Params["flag"] = tc.value
			}
			got, err := r.Bool("flag", tc.def)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "param flag: want true or false") {
					t.Fatalf("Bool = %v, %v; want an error naming the param", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Bool = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
