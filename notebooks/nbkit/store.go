package nbkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/kernelext"
)

// EnvReportDir names the folder where scripts/run-notebooks.sh collects reports; with
// EnvNotebook it makes kernelext also write every table (HTML, Markdown, CSV) and chart (SVG)
// to <report dir>/<notebook>/, and Save put its JSON files there.
const (
	EnvReportDir = "DCBENCH_REPORT_DIR"
	EnvNotebook  = "DCBENCH_NOTEBOOK"
)

func init() {
	if dir := ReportDir(); dir != "" {
		kernelext.SetOutputDir(dir)
		kernelext.SetSaveInNotebook(true)
	}
}

// ReportDir is <$DCBENCH_REPORT_DIR>/<$DCBENCH_NOTEBOOK>, or "" when the report folder is not
// set.
func ReportDir() string {
	root := os.Getenv(EnvReportDir)
	if root == "" {
		return ""
	}
	nb := strings.TrimSuffix(filepath.Base(os.Getenv(EnvNotebook)), ".ipynb")
	if nb == "" || nb == "." {
		nb = "notebook"
	}
	return filepath.Join(root, nb)
}

// StoreDir is where Save and Load keep their files: the report folder when set, else the
// GoNB kernel's temporary folder ($GONB_TMP_DIR, one per kernel session), else the system's
// temporary folder.
func StoreDir() string {
	if dir := ReportDir(); dir != "" {
		return dir
	}
	if dir := os.Getenv("GONB_TMP_DIR"); dir != "" {
		return filepath.Join(dir, "nbkit")
	}
	return filepath.Join(os.TempDir(), "dcbench-nbkit")
}

func storePath(name string) string {
	return filepath.Join(StoreDir(), "results-"+name+".json")
}

// Save writes v as JSON under name, for a later cell of the same notebook to Load (each
// GoNB cell runs as a separate program, so results do not survive in variables).
func Save(name string, v any) error {
	if err := os.MkdirAll(StoreDir(), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("saving %s: %w", name, err)
	}
	return os.WriteFile(storePath(name), data, 0o644)
}

// Load reads into v what Save wrote under name.
func Load(name string, v any) error {
	data, err := os.ReadFile(storePath(name))
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("no saved results %q in %s: run the experiment cell above first", name, StoreDir())
		}
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("loading %s: %w", name, err)
	}
	return nil
}

func setPath(name string) string {
	return filepath.Join(StoreDir(), "set-"+name+".dcb")
}

// SaveSet writes a condensed set under name (dcbench's set file format), for a later cell.
func SaveSet(name string, set *dcbench.Set) error {
	if err := os.MkdirAll(StoreDir(), 0o755); err != nil {
		return err
	}
	return set.Save(setPath(name))
}

// LoadSet reads the set SaveSet wrote under name.
func LoadSet(name string) (*dcbench.Set, error) {
	set, err := dcbench.LoadSet(setPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no saved set %q in %s: run the experiment cell above first", name, StoreDir())
	}
	return set, err
}

// GridHTML renders a condensed set as an image grid (one row per class, at most perClass
// images, zoomed scale times) with its classes named, as in Fig. 8 of the paper.
func GridHTML(set *dcbench.Set, title string, perClass, scale int) (string, error) {
	d := set.Data
	return kernelext.ImageGridHTML(d.Images, d.N, d.H, d.W, d.C, d.Labels, d.Classes, d.Mean, d.Std,
		kernelext.GridOptions{PerClass: perClass, Scale: scale, Padding: 1, Title: title})
}

// ShowSet displays GridHTML of set (or writes it to the report folder outside a notebook).
func ShowSet(name string, set *dcbench.Set, title string, perClass, scale int) error {
	h, err := GridHTML(set, title, perClass, scale)
	if err != nil {
		return err
	}
	_, err = kernelext.DisplayHTML(name, h)
	return err
}
