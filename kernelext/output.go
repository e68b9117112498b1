// Package kernelext holds display helpers for the DC-Bench GoNB notebooks: comparison tables
// of our numbers against the paper's (see package dcbench/reference), image grids of
// condensed sets, SVG line and bar charts, and a progress bar.
//
// Every helper is split in two:
//   - a pure function or method that builds the artifact (an HTML, Markdown, CSV or SVG
//     string, an [image.Image] or PNG bytes), which is what the tests check;
//   - a Display function that shows the artifact in the notebook when running under GoNB
//     ([IsNotebook]), and otherwise writes it to a file in the output folder
//     ([SetOutputDir], default "./kernelext-out") and returns the file's path. Under GoNB
//     the returned path is "" unless [SetSaveInNotebook](true) asked for files as well.
//
// File names: Display functions take a name such as "table4-cifar10"; it is sanitised (only
// letters, digits, '.', '_' and '-' are kept), given the right extension, and an empty name
// becomes "kernelext-<n>". An existing file of the same name is overwritten.
package kernelext

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
)

// DefaultOutputDir is the folder Display functions write to outside a notebook, unless
// [SetOutputDir] chose another.
const DefaultOutputDir = "kernelext-out"

var (
	outMu          sync.Mutex
	outDir         = DefaultOutputDir
	saveInNotebook bool
	autoName       int
)

// SetOutputDir sets the folder where Display functions write their files (created on
// demand). An empty dir restores [DefaultOutputDir].
func SetOutputDir(dir string) {
	outMu.Lock()
	defer outMu.Unlock()
	if dir == "" {
		dir = DefaultOutputDir
	}
	outDir = dir
}

// OutputDir returns the folder where Display functions write their files.
func OutputDir() string {
	outMu.Lock()
	defer outMu.Unlock()
	return outDir
}

// SetSaveInNotebook makes Display functions also write their files when running in a
// notebook (by default they only display there).
func SetSaveInNotebook(save bool) {
	outMu.Lock()
	defer outMu.Unlock()
	saveInNotebook = save
}

// IsNotebook reports whether the program runs inside a GoNB notebook cell
// (gonbui.IsNotebook).
func IsNotebook() bool { return gonbui.IsNotebook }

// shouldSave reports whether Display functions must write a file.
func shouldSave() bool {
	if !IsNotebook() {
		return true
	}
	outMu.Lock()
	defer outMu.Unlock()
	return saveInNotebook
}

// OutputPath returns the path a Display function would write name to, with extension ext
// (such as ".html"), in the current output folder.
func OutputPath(name, ext string) string {
	return filepath.Join(OutputDir(), fileName(name, ext))
}

// fileName sanitises name and makes sure it ends with ext.
func fileName(name, ext string) string {
	name = strings.TrimSuffix(name, ext)
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return resolveName(b.String()) + ext
}

// resolveName returns name without leading/trailing dots, or a fresh "kernelext-<n>" if
// that leaves nothing.
func resolveName(name string) string {
	if s := strings.Trim(name, "."); s != "" {
		return s
	}
	outMu.Lock()
	defer outMu.Unlock()
	autoName++
	return fmt.Sprintf("kernelext-%d", autoName)
}

// writeOutput writes data to the output folder as name+ext and returns the path.
func writeOutput(name, ext string, data []byte) (string, error) {
	path := OutputPath(name, ext)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("kernelext: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("kernelext: %w", err)
	}
	return path, nil
}

// HTMLPage wraps an HTML fragment in a minimal standalone UTF-8 document with the given
// title, as written by [DisplayHTML].
func HTMLPage(title, body string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		"</title></head>\n<body style=\"font-family:sans-serif\">\n" + body + "\n</body></html>\n"
}

// DisplayHTML shows an HTML fragment in the notebook, or writes it (wrapped by [HTMLPage])
// to <output dir>/<name>.html and returns that path.
func DisplayHTML(name, htmlFragment string) (string, error) {
	if IsNotebook() {
		gonbui.DisplayHTML(htmlFragment)
	}
	if !shouldSave() {
		return "", nil
	}
	return writeOutput(name, ".html", []byte(HTMLPage(name, htmlFragment)))
}

// DisplayMarkdown shows Markdown in the notebook, or writes it to <output dir>/<name>.md and
// returns that path.
func DisplayMarkdown(name, markdown string) (string, error) {
	if IsNotebook() {
		gonbui.DisplayMarkdown(markdown)
	}
	if !shouldSave() {
		return "", nil
	}
	return writeOutput(name, ".md", []byte(markdown))
}

// DisplaySVG shows an SVG document in the notebook, or writes it to <output dir>/<name>.svg
// and returns that path.
func DisplaySVG(name, svg string) (string, error) {
	if IsNotebook() {
		gonbui.DisplaySvg(svg)
	}
	if !shouldSave() {
		return "", nil
	}
	return writeOutput(name, ".svg", []byte(svg))
}

// DisplayPNG shows PNG-encoded bytes in the notebook, or writes them to
// <output dir>/<name>.png and returns that path.
func DisplayPNG(name string, pngBytes []byte) (string, error) {
	if IsNotebook() {
		gonbui.DisplayPng(pngBytes)
	}
	if !shouldSave() {
		return "", nil
	}
	return writeOutput(name, ".png", pngBytes)
}

// DisplayImage encodes img as PNG (see [EncodePNG]) and shows or writes it like
// [DisplayPNG].
func DisplayImage(name string, img image.Image) (string, error) {
	b, err := EncodePNG(img)
	if err != nil {
		return "", err
	}
	return DisplayPNG(name, b)
}

// EncodePNG encodes img as PNG bytes.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("kernelext: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}
