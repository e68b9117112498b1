package models_test

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"

	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // the CPU backend
	"github.com/dcbench/dcbench/dcbench/models"
)

// Look a model up by name and count its parameters for CIFAR-10 images.
func ExampleGet() {
	m, err := models.Get("convnet")
	if err != nil {
		panic(err)
	}
	b, err := backends.NewWithConfig("gogemm:ops_sequential")
	if err != nil {
		panic(err)
	}
	shape, params, err := models.Probe(b, m, 32, 32, 3, 10)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Name, shape.Dimensions, params)
	// Output: convnet [2 10] 320010
}
