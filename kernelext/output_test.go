package kernelext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutputDirAndNames(t *testing.T) {
	if IsNotebook() {
		t.Skip("running under GoNB")
	}
	SetOutputDir("")
	if OutputDir() != DefaultOutputDir {
		t.Errorf("default output dir %q", OutputDir())
	}
	dir := t.TempDir()
	SetOutputDir(filepath.Join(dir, "nested", "out"))
	defer SetOutputDir("")
	for _, tc := range []struct{ name, ext, want string }{
		{"table4", ".html", "table4.html"},
		{"table4.html", ".html", "table4.html"},
		{"Table 4: CIFAR-10 (IPC=10)", ".md", "Table_4__CIFAR-10__IPC_10_.md"},
		{"../../etc/passwd", ".svg", "_.._etc_passwd.svg"},
	} {
		if got := fileName(tc.name, tc.ext); got != tc.want {
			t.Errorf("fileName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	a, b := fileName("", ".png"), fileName("", ".png")
	if a == b || !strings.HasPrefix(a, "kernelext-") {
		t.Errorf("automatic names %q, %q", a, b)
	}

	for _, tc := range []struct {
		display func() (string, error)
		file    string
		want    string
	}{
		{func() (string, error) { return DisplayHTML("page", "<b>hi</b>") }, "page.html", "<b>hi</b>"},
		{func() (string, error) { return DisplayMarkdown("notes", "# hi") }, "notes.md", "# hi"},
		{func() (string, error) { return DisplaySVG("fig", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`) }, "fig.svg", "<svg"},
		{func() (string, error) { return DisplayPNG("raw", []byte("\x89PNG")) }, "raw.png", "PNG"},
	} {
		path, err := tc.display()
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, "nested", "out", tc.file) {
			t.Errorf("path %q", path)
		}
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %q, %v", tc.file, b, err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "nested", "out", "page.html"))
	if !strings.HasPrefix(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), `charset="utf-8"`) {
		t.Errorf("HTML file is not a standalone page: %s", page)
	}
}
