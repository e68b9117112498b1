package dcbench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/method"
)

// ProgressFunc reports progress of long work: done out of total units, with a short message.
type ProgressFunc = method.ProgressFunc

// Request is what a Condenser gets; see method.Request.
type Request = method.Request

// Condenser is a condensation method; see method.Condenser.
type Condenser = method.Condenser

var (
	condensersMu sync.RWMutex
	condensers   = map[string]Condenser{}
)

// RegisterCondenser adds a method to the registry; it panics on a duplicate name.
func RegisterCondenser(c Condenser) {
	condensersMu.Lock()
	defer condensersMu.Unlock()
	name := strings.ToLower(c.Name())
	if _, dup := condensers[name]; dup {
		panic(fmt.Sprintf("dcbench: condenser %q registered twice", name))
	}
	condensers[name] = c
}

// Methods lists the registered condensation methods, sorted.
func Methods() []string {
	condensersMu.RLock()
	defer condensersMu.RUnlock()
	names := make([]string, 0, len(condensers))
	for n := range condensers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// GetCondenser returns the method called name (case-insensitive; "k-center" and "kcenter"
// are the same), or an error listing the valid names.
func GetCondenser(name string) (Condenser, error) {
	key := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	condensersMu.RLock()
	c, ok := condensers[key]
	condensersMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown condensation method %q (valid: %s)", name, strings.Join(Methods(), ", "))
	}
	return c, nil
}

// CondenseOptions are the settings of Condense.
type CondenseOptions struct {
	// Method is the registry name of the condenser (default "random").
	Method string
	// IPC is the number of images per class (required, ≥ 1).
	IPC int
	// Seed for every random draw (0 is a valid seed).
	Seed uint64
	// Backend to compute on; nil picks one with backend.New("").
	Backend backends.Backend
	// Params are method-specific settings.
	Params map[string]any
	// Progress receives progress reports; nil for none.
	Progress ProgressFunc
	// Context cancels the work; nil means context.Background().
	Context context.Context
	// Source names the dataset for the record (default: Train.Name).
	Source string
}

// Condense makes a condensed set of train (which must be normalised) with the chosen method.
// It checks the request first: IPC must be positive and no larger than the smallest class.
func Condense(train *datasets.Dataset, opts CondenseOptions) (*Set, error) {
	if opts.Method == "" {
		opts.Method = "random"
	}
	c, err := GetCondenser(opts.Method)
	if err != nil {
		return nil, err
	}
	if err := checkIPC(train, opts.IPC); err != nil {
		return nil, err
	}
	if opts.Backend == nil {
		if opts.Backend, _, err = backend.New(""); err != nil {
			return nil, err
		}
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Progress == nil {
		opts.Progress = func(int, int, string) {}
	}
	start := time.Now()
	prior := 0.0 // the earlier runs' seconds, when the method resumes from a checkpoint
	data, err := c.Condense(Request{Context: opts.Context, Train: train, IPC: opts.IPC, Seed: opts.Seed,
		Backend: opts.Backend, Params: opts.Params, Progress: opts.Progress,
		Resumed: func(_ int, seconds float64) { prior = seconds }})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name(), err)
	}
	data.Split = "condensed"
	set := &Set{Data: data}
	set.Method, set.IPC, set.Seed, set.Params = c.Name(), opts.IPC, opts.Seed, opts.Params
	set.Source = opts.Source
	if set.Source == "" {
		set.Source = train.Name
	}
	set.Backend = backend.Describe(opts.Backend)
	set.Seconds = prior + time.Since(start).Seconds()
	set.Created = time.Now().UTC().Truncate(time.Second)
	set.Version = Version
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("%s produced an invalid set: %w", c.Name(), err)
	}
	return set, nil
}

// checkIPC reports an IPC that is not positive or larger than some class of train.
func checkIPC(train *datasets.Dataset, ipc int) error {
	if train == nil || train.N == 0 {
		return fmt.Errorf("empty training set")
	}
	if !train.Normalized {
		return fmt.Errorf("training set %s is not normalised: call Normalize() first", train.Name)
	}
	if ipc < 1 {
		return fmt.Errorf("IPC must be at least 1, got %d", ipc)
	}
	for c, n := range train.ClassCounts() {
		if ipc > n {
			return fmt.Errorf("IPC %d is larger than class %d (%s), which has %d images in %s/%s",
				ipc, c, train.Classes[c], n, train.Name, train.Split)
		}
	}
	return nil
}
