package models

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

func TestZZTiming(t *testing.T) {
	names := strings.Split(os.Getenv("ZZ_MODELS"), ",")
	size, _ := strconv.Atoi(os.Getenv("ZZ_SIZE"))
	batch, _ := strconv.Atoi(os.Getenv("ZZ_BATCH"))
	for _, name := range names {
		m, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if os.Getenv("ZZ_PROBE") != "" {
			shape, n, err := Probe(backend, m, 32, 32, 3, 10)
			t.Logf("%s probe32: %v %d %v in %v", name, shape, n, err, time.Since(start))
		}
		if os.Getenv("ZZ_STEP") != "" {
			start = time.Now()
			labels := []int32{0, 1}[:batch]
			l := sgdLosses(t, m, randomImages(1, batch, size, size, 3), tensors.FromValue(labels), 10, 2, 0.01)
			t.Logf("%s steps %dx%d b%d: %v in %v", name, size, size, batch, l, time.Since(start))
		}
	}
}
