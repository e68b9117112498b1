package augment

import (
	"os"
	"testing"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego"
)

// backend is the pure Go backend shared by the package's tests.
var backend backends.Backend

func TestMain(m *testing.M) {
	_ = os.Setenv("GOMLX_BACKEND", "go")
	backend = backends.MustNew()
	code := m.Run()
	backend.Finalize()
	os.Exit(code)
}
