package nbkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/condensers/mtt"
	"github.com/dcbench/dcbench/dcbench/expert"
)

// EnvMTTBuffer names the folder of expert trajectories ("dcbench buffer") that the paper
// profile hands to MTT.
const EnvMTTBuffer = "DCBENCH_MTT_BUFFER"

// ErrNoBuffer is returned by Condense for MTT in the paper profile when no expert
// trajectories are given ($DCBENCH_MTT_BUFFER or the notebook's "buffer" param): the
// notebooks show the row as not run.
var ErrNoBuffer = errors.New("MTT needs expert trajectories: make them with 'dcbench buffer' and set " + EnvMTTBuffer)

// Quick-profile expert buffer: a few experts trained briefly on a class-balanced pool, just
// enough for MTT to run end to end on a CPU (its numbers mean nothing).
const (
	quickExperts      = 2
	quickExpertEpochs = 3
	quickPoolPerClass = 10
)

// mttParams adds what MTT needs to params (a copy): in the quick profile a small expert
// buffer, trained once into the user's cache folder and reused, with a short trajectory
// (syn_steps 5, expert_epochs 1, max_start_epoch 2, no ZCA); in the paper profile the folder
// of $DCBENCH_MTT_BUFFER. A "buffer" given by the notebook wins.
func (p Profile) mttParams(train *datasets.Dataset, params map[string]any, progress dcbench.ProgressFunc) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range params {
		out[k] = v
	}
	if _, ok := out[mtt.ParamBuffer]; ok {
		return out, nil
	}
	if p.Name != "quick" {
		dir := os.Getenv(EnvMTTBuffer)
		if dir == "" {
			return nil, ErrNoBuffer
		}
		out[mtt.ParamBuffer] = dir
		return out, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "dcbench", "notebook-buffers",
		fmt.Sprintf("%s-%dx%dx%d-seed%d-e%dx%d", train.Name, train.H, train.W, train.C, p.Seed, quickExperts, quickExpertEpochs))
	pool, err := train.SamplePerClass(quickPoolPerClass, p.Seed, 0)
	if err != nil {
		return nil, err
	}
	cfg := expert.DefaultConfig()
	cfg.Experts, cfg.Epochs, cfg.Seed = quickExperts, quickExpertEpochs, p.Seed
	cfg.Batch = pool.N
	cfg.Progress = func(done, total int, msg string) {
		if progress != nil {
			progress(done, total, "expert trajectories: "+msg)
		}
	}
	be, _, err := backend.New("")
	if err != nil {
		return nil, err
	}
	if _, err := expert.Train(be, pool, dir, cfg); err != nil {
		return nil, fmt.Errorf("quick expert buffer in %s: %w", dir, err)
	}
	out[mtt.ParamBuffer] = dir
	for k, v := range map[string]any{mtt.ParamZCA: false, mtt.ParamSynSteps: 5, mtt.ParamExpertEpochs: 1, mtt.ParamMaxStartEpoch: 2} {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}
