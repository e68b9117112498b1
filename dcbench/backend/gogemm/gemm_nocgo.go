//go:build !cgo

package gogemm

import "errors"

// loadCBLAS needs cgo; without it the products run on gonum's pure-Go GEMM.
func loadCBLAS(path string) error { return errors.New("built without cgo") }
