// Package backend is the one place where dcbench picks its gomlx backend: $GOMLX_BACKEND when
// set, else the XLA backend with a PJRT CUDA plugin when one is found on a machine with an
// NVIDIA GPU, else the CPU backend: gomlx's pure-Go simplego with the large matrix products
// served by a host GEMM (package gogemm), run op by op (simplego's parallel scheduler can
// deadlock on 2 cores).
package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/default" // simplego, and xla where cgo is available

	_ "github.com/dcbench/dcbench/dcbench/backend/gogemm" // simplego with GEMM products
)

// CPU is the backend spec used when no GPU is found: simplego with the large matrix
// products on a host GEMM (package gogemm), run op by op.
const CPU = "gogemm:ops_sequential"

// SimpleGo is the plain simplego spec ("go", "simplego"), for comparisons.
const SimpleGo = "go:ops_sequential"

// Choice is a resolved backend spec and why it was chosen.
type Choice struct {
	Spec   string // value for GOMLX_BACKEND, e.g. "go:ops_sequential" or "xla:/path/xla_cuda_plugin.so"
	Reason string // "GOMLX_BACKEND", "--backend", "CUDA plugin found", "no GPU found"
}

// Resolve picks the backend spec: explicit (a --backend flag value; "" for none), then
// $GOMLX_BACKEND, then a CUDA plugin, then the CPU. The names "cpu"/"go" and "gpu"/"cuda"
// are accepted as shorthands.
func Resolve(explicit string) (Choice, error) {
	if explicit != "" {
		spec, err := expand(explicit)
		return Choice{Spec: spec, Reason: "--backend"}, err
	}
	if env := os.Getenv("GOMLX_BACKEND"); env != "" {
		spec, err := expand(env)
		return Choice{Spec: spec, Reason: "GOMLX_BACKEND"}, err
	}
	if p := FindCUDAPlugin(); p != "" && hasNVIDIAGPU() {
		return Choice{Spec: "xla:" + p, Reason: "CUDA plugin found"}, nil
	}
	return Choice{Spec: CPU, Reason: "no GPU found"}, nil
}

func expand(name string) (string, error) {
	switch strings.ToLower(name) {
	case "cpu", "gogemm":
		return CPU, nil
	case "go", "simplego":
		return SimpleGo, nil
	case "gpu", "cuda":
		p := FindCUDAPlugin()
		if p == "" {
			return "", fmt.Errorf("backend %q: no PJRT CUDA plugin found (searched %s); set GOMLX_BACKEND=xla:/path/to/xla_cuda_plugin.so",
				name, strings.Join(pluginSearchPatterns(), ", "))
		}
		return "xla:" + p, nil
	}
	if strings.HasPrefix(name, "go") || strings.HasPrefix(name, "xla") || strings.HasPrefix(name, "stablehlo") {
		return name, nil
	}
	return "", fmt.Errorf("unknown backend %q (valid: cpu, gpu, go[:options], xla:PLUGIN)", name)
}

// pluginSearchPatterns lists where CUDA PJRT plugins are looked for: $PJRT_PLUGIN_LIBRARY_PATH,
// gomlx's install folder, and the plugin that ships inside JAX (jax_plugins/xla_cuda*).
func pluginSearchPatterns() []string {
	var pats []string
	for _, dir := range filepath.SplitList(os.Getenv("PJRT_PLUGIN_LIBRARY_PATH")) {
		if dir != "" {
			pats = append(pats, filepath.Join(dir, "*cuda*.so"))
		}
	}
	home, _ := os.UserHomeDir()
	pats = append(pats,
		"/usr/local/lib/gomlx/pjrt/pjrt_c_api_cuda_plugin.so",
		filepath.Join(home, ".local/lib/gomlx/pjrt/pjrt_c_api_cuda_plugin.so"),
		"/usr/local/lib/python3*/dist-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
		"/usr/local/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
		"/usr/lib/python3*/dist-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
		filepath.Join(home, ".local/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so"),
		"/opt/conda/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so",
	)
	return pats
}

// FindCUDAPlugin returns the path of a PJRT CUDA plugin, or "" if none is found. The newest
// CUDA major version wins when several are installed.
func FindCUDAPlugin() string {
	for _, pat := range pluginSearchPatterns() {
		matches, _ := filepath.Glob(pat)
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && !st.IsDir() {
				return m
			}
		}
	}
	return ""
}

func hasNVIDIAGPU() bool {
	for _, p := range []string{"/dev/nvidia0", "/proc/driver/nvidia/version"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

var (
	mu      sync.Mutex
	current backends.Backend
	chosen  Choice
)

// New returns the process-wide backend for the given explicit choice ("" to let Resolve
// decide), creating it on first use. It sets GOMLX_NO_AUTO_INSTALL=1 (unless set) so gomlx
// never tries to download plugins, which fails offline.
func New(explicit string) (backends.Backend, Choice, error) {
	mu.Lock()
	defer mu.Unlock()
	choice, err := Resolve(explicit)
	if err != nil {
		return nil, choice, err
	}
	if current != nil {
		if choice.Spec == chosen.Spec {
			return current, chosen, nil
		}
	}
	if os.Getenv("GOMLX_NO_AUTO_INSTALL") == "" {
		_ = os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
	}
	if strings.HasPrefix(choice.Spec, "xla") && os.Getenv("GOPJRT_CUDA_CHECKS") == "" {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
	b, err := backends.NewWithConfig(choice.Spec)
	if err != nil {
		return nil, choice, fmt.Errorf("cannot start backend %q (%s): %w", choice.Spec, choice.Reason, err)
	}
	current, chosen = b, choice
	return b, choice, nil
}

// Describe is a one-line description of a backend for logs and result records.
func Describe(b backends.Backend) string {
	return fmt.Sprintf("%s (%s)", b.Name(), b.Description())
}
