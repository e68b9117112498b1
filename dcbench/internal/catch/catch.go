// Package catch turns panics raised while building or running gomlx graphs into errors, so
// that the public API returns clear errors instead of panic traces.
package catch

import (
	"errors"
	"fmt"
)

// Run calls fn and returns the value of any panic it raises as an error (nil if none).
func Run(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case error:
				err = e
			case string:
				err = errors.New(e)
			default:
				err = fmt.Errorf("%v", e)
			}
		}
	}()
	fn()
	return nil
}
