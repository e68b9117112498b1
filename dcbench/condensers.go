package dcbench

import (
	"github.com/dcbench/dcbench/dcbench/condensers/dm"
	"github.com/dcbench/dcbench/dcbench/condensers/gm"
	"github.com/dcbench/dcbench/dcbench/condensers/herding"
	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
	"github.com/dcbench/dcbench/dcbench/condensers/kip"
	"github.com/dcbench/dcbench/dcbench/condensers/mtt"
)

// Condensation methods register themselves here, so that Condense finds them by name. Each
// lives in its own package under dcbench/condensers (K-Center, Herding, DM, DC/DSA, ...);
// adding one is a line in init.
func init() {
	RegisterCondenser(Random{})
	RegisterCondenser(kcenter.KCenter{})
	RegisterCondenser(herding.Herding{})
	RegisterCondenser(dm.DM{})
	RegisterCondenser(gm.DC())
	RegisterCondenser(gm.DSA())
	RegisterCondenser(mtt.MTT{})
	RegisterCondenser(kip.KIP{})
}
