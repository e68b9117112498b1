package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWrite checks that Write replaces a file, leaves no temporary file behind, and keeps
// the old file when it cannot write.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	for _, data := range []string{"first", "second, longer"} {
		if err := Write(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want 1 (no temporary left)", len(entries))
	}
	if err := Write(filepath.Join(dir, "missing", "f.bin"), []byte("x")); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
