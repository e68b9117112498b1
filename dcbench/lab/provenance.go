package lab

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/kernelext"
)

// Provenance is what makes an executed notebook a reproducible report: the code, the
// backend and device, the data, the seeds and the settings.
type Provenance struct {
	Experiment, Profile, Results string
	// Commit is the dcbench checkout's git commit ($DCBENCH_ROOT, else the build's).
	Commit  string
	Backend string
	Device  string
	// Dataset names the data, SHA256 is DatasetSHA256 of it.
	Dataset, SHA256 string
	Seeds           string
	Settings        string
	Go              string
}

// Provenance gathers the experiment's provenance, loading its data for the checksum and
// creating the default backend.
func (e *Experiment) Provenance() (Provenance, error) {
	p := Provenance{Experiment: e.Name, Profile: e.Profile, Results: e.Dir, Commit: Commit(), Device: Device(), Go: runtime.Version()}
	b, choice, err := backend.New("")
	if err != nil {
		return p, err
	}
	p.Backend = fmt.Sprintf("%s (%s: %s)", backend.Describe(b), choice.Spec, choice.Reason)
	data, err := e.Data()
	if err != nil {
		return p, err
	}
	p.Dataset = fmt.Sprintf("%s: %d train, %d test images", e.Runs[0].Config.Dataset, data.Train.N, data.Test.N)
	p.SHA256 = DatasetSHA256(data)
	cseeds := map[uint64]bool{}
	var cs []string
	for _, r := range e.Runs {
		if !cseeds[r.Config.CondenseSeed] {
			cseeds[r.Config.CondenseSeed] = true
			cs = append(cs, fmt.Sprint(r.Config.CondenseSeed))
		}
	}
	p.Seeds = fmt.Sprintf("evaluation %v, condensation [%s]", e.Seeds(), strings.Join(cs, " "))
	c := e.Runs[0].Config
	p.Settings = fmt.Sprintf("%d runs; first: %s; epochs %s, batch %s, test images %s", len(e.Runs), e.Runs[0],
		orRef(c.Epochs), orRef(c.Batch), orAll(c.TestN))
	return p, nil
}

func orRef(n int) string {
	if n == 0 {
		return "reference"
	}
	return fmt.Sprint(n)
}

func orAll(n int) string {
	if n == 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

// HTML renders p as a two-column table.
func (p Provenance) HTML() string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">`)
	for _, r := range p.rows() {
		fmt.Fprintf(&b, `<tr><th style="text-align:left;padding:2px 10px 2px 0;vertical-align:top">%s</th><td style="padding:2px 0;text-align:left;white-space:normal">%s</td></tr>`,
			html.EscapeString(r[0]), html.EscapeString(r[1]))
	}
	b.WriteString(`</table>`)
	return b.String()
}

// Text renders p as "key: value" lines.
func (p Provenance) Text() string {
	var b strings.Builder
	for _, r := range p.rows() {
		fmt.Fprintf(&b, "%s: %s\n", r[0], r[1])
	}
	return b.String()
}

func (p Provenance) rows() [][2]string {
	commit := p.Commit
	if commit == "" {
		commit = "unknown"
	}
	return [][2]string{
		{"experiment", p.Experiment + " (" + p.Profile + " profile)"},
		{"dcbench", dcbench.Version + ", commit " + commit},
		{"backend", p.Backend},
		{"device", p.Device},
		{"dataset", p.Dataset},
		{"dataset sha256", p.SHA256},
		{"seeds", p.Seeds},
		{"settings", p.Settings},
		{"results folder", p.Results},
		{"Go", p.Go},
	}
}

// ShowProvenance displays the experiment's provenance (printed outside a notebook).
func ShowProvenance(e *Experiment) error {
	p, err := e.Provenance()
	if err != nil {
		return err
	}
	if kernelext.IsNotebook() {
		_, err = kernelext.DisplayHTML("provenance", p.HTML())
		return err
	}
	fmt.Print(p.Text())
	return nil
}

// DatasetSHA256 is the SHA-256 of a dataset pair's pixels (as float32, little-endian) and
// labels, train then test: the same data gives the same checksum.
func DatasetSHA256(p *datasets.Pair) string {
	h := sha256.New()
	for _, d := range []*datasets.Dataset{p.Train, p.Test} {
		_ = binary.Write(h, binary.LittleEndian, d.Images)
		_ = binary.Write(h, binary.LittleEndian, d.Labels)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Device names the machine's accelerator: the NVIDIA GPUs nvidia-smi lists, else the CPU
// model and core count.
func Device() string {
	if path, err := exec.LookPath("nvidia-smi"); err == nil {
		if out, err := exec.Command(path, "--query-gpu=name,memory.total", "--format=csv,noheader").Output(); err == nil {
			if s := strings.TrimSpace(string(out)); s != "" {
				return strings.Join(strings.Split(s, "\n"), "; ")
			}
		}
	}
	return fmt.Sprintf("%s, %d logical cores", cpuModel(), runtime.NumCPU())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// Commit is the git commit of the dcbench checkout named by $DCBENCH_ROOT (set by
// scripts/run-notebooks.sh), with "+dirty" for local changes (but to notebooks), else the build's
// (dcbench.Commit), else "".
func Commit() string {
	root := os.Getenv("DCBENCH_ROOT")
	if root == "" {
		return dcbench.Commit()
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		return dcbench.Commit()
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return dcbench.Commit()
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(st)), "\n") {
			if l != "" && !strings.HasSuffix(l, ".ipynb") { // the notebooks' own outputs are not code
				c += "+dirty"
				break
			}
		}
	}
	return c
}
