package gm

import (
	"fmt"
	"strings"

	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/condensers/synth"
	"github.com/dcbench/dcbench/dcbench/method"
	"github.com/dcbench/dcbench/dcbench/models"
)

// Names of the Request.Params read by DC and DSA. Those shared by every synthesis method
// (iterations, lr_img, momentum_img, init, and eval_every, eval_hook, checkpoint,
// checkpoint_every, stats) are package synth's; the others are DC/DSA's own.
const (
	// ParamIterations is the number of outer iterations, each with a fresh network (default 1000).
	ParamIterations = synth.ParamIterations
	// ParamLRImg is the learning rate of the synthetic images (0.1).
	ParamLRImg = synth.ParamLR
	// ParamMomentumImg is the SGD momentum of the synthetic images (0.5).
	ParamMomentumImg = synth.ParamMomentum
	// ParamInit is the initialisation of the synthetic images: real (default), noise or kcenter.
	ParamInit = synth.ParamInit
	// ParamOuterLoop is the number of synthetic-image updates per network (default: LoopSchedule).
	ParamOuterLoop = "outer_loop"
	// ParamInnerLoop is the number of epochs the network is trained on the synthetic set between
	// two updates (default: LoopSchedule).
	ParamInnerLoop = "inner_loop"
	// ParamBatchReal is the number of real images per class sampled for each matching step
	// (256, or the smallest class when that is smaller).
	ParamBatchReal = "batch_real"
	// ParamBatchTrain is the batch size of the inner-loop network training (256).
	ParamBatchTrain = "batch_train"
	// ParamLRNet is the learning rate of the inner-loop network training (0.01; plain SGD).
	ParamLRNet = "lr_net"
	// ParamModel is the registry name of the matching network (default "convnet"; ConvNet-4
	// for images of 64 pixels or more, as DC-Bench on TinyImageNet). With init=kcenter it is
	// also K-Center's embedding network.
	ParamModel = "model"
	// ParamDSAStrategy is the DSA strategy of the "dsa" method (augment.DefaultStrategy).
	ParamDSAStrategy = "dsa_strategy"
)

// Reference defaults of the params shared with package synth.
const (
	DefaultIterations  = 1000
	DefaultLRImg       = 0.1
	DefaultMomentumImg = 0.5
)

// modelParamKeys are the model context params that may be given in Request.Params.
var modelParamKeys = []string{
	models.ParamConvNetWidth, models.ParamConvNetDepth, models.ParamConvNetNorm,
	models.ParamConvNetActivation, models.ParamConvNetPooling,
}

// Config is the DC/DSA-specific setting of a run, read from a Request by ConfigFrom (the
// iteration count, the image optimiser and the initialisation are package synth's).
type Config struct {
	// OuterLoop and InnerLoop are the matching steps per network and the training epochs on
	// the synthetic set between two of them.
	OuterLoop, InnerLoop int
	// BatchReal is the real batch per class and matching step; BatchTrain the inner-loop batch.
	BatchReal, BatchTrain int
	// LRNet is the learning rate of the inner loop's plain SGD.
	LRNet float64
	// Model is the registry name of the matching network; ModelParams are its context params.
	Model       string
	ModelParams map[string]any
	// DSA turns on the siamese augmentation (the "dsa" method); DSAConfig is its setting.
	DSA       bool
	DSAConfig augment.Config
}

// LoopSchedule returns the reference's (outer_loop, inner_loop) for an IPC: 1 → (1, 1),
// 10 → (10, 50), 20 → (20, 25), 30 → (30, 20), 40 → (40, 15), 50 → (50, 10), and (10, 10)
// above 50, as DC-Bench did to scale DC and DSA to large IPCs. Other IPCs up to 50 take the
// setting of the next listed IPC (e.g. 5 → (10, 50)), the closest the reference allows.
func LoopSchedule(ipc int) (outer, inner int) {
	switch {
	case ipc <= 1:
		return 1, 1
	case ipc <= 10:
		return 10, 50
	case ipc <= 20:
		return 20, 25
	case ipc <= 30:
		return 30, 20
	case ipc <= 40:
		return 40, 15
	case ipc <= 50:
		return 50, 10
	}
	return 10, 10
}

// ConfigFrom reads the settings of req.Params (see the Param constants; the ConvNet params
// models.ParamConvNet* are passed to the network), with the reference defaults for those
// absent. dsa selects the DSA method. It returns an error for a value of the wrong type or
// out of range.
func ConfigFrom(req method.Request, dsa bool) (Config, error) {
	var err error
	cfg := Config{DSA: dsa, ModelParams: map[string]any{}}
	outer, inner := LoopSchedule(req.IPC)
	ints := []struct {
		key string
		def int
		dst *int
		min int
	}{
		{ParamOuterLoop, outer, &cfg.OuterLoop, 1},
		{ParamInnerLoop, inner, &cfg.InnerLoop, 0},
		{ParamBatchReal, 256, &cfg.BatchReal, 1},
		{ParamBatchTrain, 256, &cfg.BatchTrain, 1},
	}
	for _, p := range ints {
		if *p.dst, err = req.Int(p.key, p.def); err != nil {
			return cfg, err
		}
		if *p.dst < p.min {
			return cfg, fmt.Errorf("param %s must be at least %d, got %d", p.key, p.min, *p.dst)
		}
	}
	if cfg.LRNet, err = req.Float(ParamLRNet, 0.01); err != nil {
		return cfg, err
	}
	if !(cfg.LRNet > 0) {
		return cfg, fmt.Errorf("param %s: want > 0, got %g", ParamLRNet, cfg.LRNet)
	}
	if cfg.Model, err = req.String(ParamModel, "convnet"); err != nil {
		return cfg, err
	}
	if _, err := models.Get(cfg.Model); err != nil {
		return cfg, fmt.Errorf("param %s: %w", ParamModel, err)
	}
	for _, k := range modelParamKeys {
		if v, ok := req.Params[k]; ok {
			switch k {
			case models.ParamConvNetWidth, models.ParamConvNetDepth:
				n, err := req.Int(k, 0)
				if err != nil {
					return cfg, err
				}
				if n < 1 {
					return cfg, fmt.Errorf("param %s must be positive, got %d", k, n)
				}
				cfg.ModelParams[k] = n
			default:
				s, ok := v.(string)
				if !ok {
					return cfg, fmt.Errorf("param %s: want a string, got %v", k, v)
				}
				cfg.ModelParams[k] = s
			}
		}
	}
	if _, set := cfg.ModelParams[models.ParamConvNetDepth]; !set && req.Train != nil &&
		strings.EqualFold(cfg.Model, "convnet") && min(req.Train.H, req.Train.W) >= 64 {
		cfg.ModelParams[models.ParamConvNetDepth] = 4
	}
	cfg.DSAConfig = augment.DefaultConfig()
	if dsa {
		if cfg.DSAConfig.Strategy, err = req.String(ParamDSAStrategy, augment.DefaultStrategy); err != nil {
			return cfg, err
		}
		if err := cfg.DSAConfig.Validate(); err != nil {
			return cfg, fmt.Errorf("param %s: %w", ParamDSAStrategy, err)
		}
	}
	return cfg, nil
}
