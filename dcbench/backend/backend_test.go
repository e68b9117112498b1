package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "pjrt_c_api_cuda_plugin.so")
	cases := []struct {
		name, explicit, env, pluginPath string
		wantSpec, wantReason, wantErr   string
	}{
		{name: "explicit cpu", explicit: "cpu", wantSpec: CPU, wantReason: "--backend"},
		{name: "explicit go options", explicit: "go:parallelism=1", wantSpec: "go:parallelism=1", wantReason: "--backend"},
		{name: "env wins over detection", env: "cpu", pluginPath: dir, wantSpec: CPU, wantReason: "GOMLX_BACKEND"},
		{name: "plain simplego", env: "go", wantSpec: SimpleGo, wantReason: "GOMLX_BACKEND"},
		{name: "explicit wins over env", explicit: "xla:/x.so", env: "go", wantSpec: "xla:/x.so", wantReason: "--backend"},
		{name: "gpu without plugin", explicit: "gpu", wantErr: "no PJRT CUDA plugin found"},
		{name: "gpu with plugin", explicit: "gpu", pluginPath: dir, wantSpec: "xla:" + plugin, wantReason: "--backend"},
		{name: "unknown", explicit: "tpu", wantErr: `unknown backend "tpu"`},
	}
	os.WriteFile(plugin, []byte("not really a plugin"), 0o644)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMLX_BACKEND", tc.env)
			t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", tc.pluginPath)
			t.Setenv("HOME", t.TempDir()) // no plugin in the user's folders
			got, err := Resolve(tc.explicit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Spec != tc.wantSpec || got.Reason != tc.wantReason {
				t.Errorf("got %+v, want spec %q reason %q", got, tc.wantSpec, tc.wantReason)
			}
		})
	}
}

func TestNoGPUMeansCPU(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "")
	got, err := Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if hasNVIDIAGPU() && FindCUDAPlugin() != "" {
		t.Skip("this machine has a GPU and a plugin")
	}
	if got.Spec != CPU {
		t.Errorf("got %+v, want the CPU backend", got)
	}
}

func TestNewStartsCPUBackend(t *testing.T) {
	b, choice, err := New("cpu")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Name(), "go") || choice.Spec != CPU {
		t.Errorf("got backend %q (%+v)", b.Name(), choice)
	}
	if os.Getenv("GOMLX_NO_AUTO_INSTALL") != "1" {
		t.Error("GOMLX_NO_AUTO_INSTALL not set")
	}
}
