package nbkit

import (
	"bufio"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/kernelext"
)

// Environment describes where a notebook ran: the profile, backend, device and date.
type Environment struct {
	Profile  string
	Settings string
	Backend  string // backend.Describe of the backend in use
	Spec     string // the GOMLX_BACKEND spec and why it was chosen
	CPU      string
	GPU      string // "" when no NVIDIA GPU was found
	Date     time.Time
	Go       string
	Version  string // dcbench version, and the checkout's git commit when known
	Methods  []string
	Models   []string
}

// Env gathers the Environment of profile p, creating the backend (backend.New("")).
func Env(p Profile) (Environment, error) {
	b, choice, err := backend.New("")
	if err != nil {
		return Environment{}, err
	}
	e := Environment{
		Profile:  p.Name,
		Settings: p.Summary(),
		Backend:  backend.Describe(b),
		Spec:     fmt.Sprintf("%s (%s)", choice.Spec, choice.Reason),
		CPU:      fmt.Sprintf("%s, %d logical cores", cpuModel(), runtime.NumCPU()),
		GPU:      gpuName(),
		Date:     time.Now().UTC().Truncate(time.Second),
		Go:       runtime.Version(),
		Version:  dcbench.Version,
		Methods:  dcbench.Methods(),
		Models:   models.Names(),
	}
	if c := checkoutCommit(); c != "" {
		e.Version += " (checkout " + c + ")"
	}
	return e, nil
}

// HTML renders the environment as a small two-column table.
func (e Environment) HTML() string {
	gpu := e.GPU
	if gpu == "" {
		gpu = "none found (CPU only)"
	}
	rows := [][2]string{
		{"profile", e.Profile},
		{"settings", e.Settings},
		{"backend", e.Backend},
		{"GOMLX_BACKEND", e.Spec},
		{"CPU", e.CPU},
		{"GPU", gpu},
		{"date (UTC)", e.Date.Format("2006-01-02 15:04:05")},
		{"Go", e.Go},
		{"dcbench", e.Version},
		{"registered methods", strings.Join(e.Methods, ", ")},
		{"models", strings.Join(e.Models, ", ")},
	}
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px">`)
	for _, r := range rows {
		fmt.Fprintf(&b, `<tr><th style="text-align:left;padding:2px 10px 2px 0;vertical-align:top">%s</th><td style="padding:2px 0;text-align:left">%s</td></tr>`,
			html.EscapeString(r[0]), html.EscapeString(r[1]))
	}
	b.WriteString(`</table>`)
	return b.String()
}

// Text renders the environment as plain "key: value" lines.
func (e Environment) Text() string {
	gpu := e.GPU
	if gpu == "" {
		gpu = "none found (CPU only)"
	}
	return fmt.Sprintf("profile: %s\nsettings: %s\nbackend: %s\nGOMLX_BACKEND: %s\nCPU: %s\nGPU: %s\ndate (UTC): %s\nGo: %s\ndcbench: %s\nregistered methods: %s\nmodels: %s\n",
		e.Profile, e.Settings, e.Backend, e.Spec, e.CPU, gpu, e.Date.Format("2006-01-02 15:04:05"), e.Go, e.Version,
		strings.Join(e.Methods, ", "), strings.Join(e.Models, ", "))
}

// ShowEnvironment prints and displays the environment of profile p: the output cell that
// names the profile, backend, device and date of a report.
func ShowEnvironment(p Profile) error {
	e, err := Env(p)
	if err != nil {
		return err
	}
	if kernelext.IsNotebook() {
		_, err = kernelext.DisplayHTML("environment", e.HTML())
		return err
	}
	fmt.Print(e.Text())
	return nil
}

// cpuModel is the "model name" of /proc/cpuinfo, or GOARCH elsewhere.
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

// gpuName lists the NVIDIA GPUs reported by nvidia-smi, or "" when there is none.
func gpuName() string {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return ""
	}
	out, err := exec.Command(path, "--query-gpu=name,memory.total", "--format=csv,noheader").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines, "; ")
}

// checkoutCommit is the short git commit of the dcbench checkout named by $DCBENCH_ROOT (set
// by scripts/run-notebooks.sh), with "+dirty" for local changes; "" when unknown.
func checkoutCommit() string {
	root := os.Getenv("DCBENCH_ROOT")
	if root == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		return ""
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}
