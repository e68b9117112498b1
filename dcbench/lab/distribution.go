package lab

import (
	"fmt"
	"html"
	"strings"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/sweep"
	"github.com/dcbench/dcbench/dcbench/tsne"
	"github.com/dcbench/dcbench/kernelext"
)

// DistributionOptions are the settings of Fig. 7's study of class in the experiment's
// profile: quick embeds with a width-32 ConvNet trained 4 epochs, paper with the paper's
// ResNet-18 (dcbench's defaults); every draw from seed 0.
func (e *Experiment) DistributionOptions(class int) dcbench.DistributionOptions {
	o := dcbench.DistributionOptions{Class: class, TSNE: tsne.Options{Seed: 0}}
	if e.Profile == sweep.ProfileQuick {
		o.Train.Model, o.Train.Epochs, o.Train.BatchSize = "convnetw32", 4, 100
	}
	return o
}

// ShowDistribution draws a distribution study: the joint t-SNE of the class's real images
// (grey) and each set's condensed images, and the bias of each set in feature space
// (centroid offset, spread, coverage, MMD) as a table.
func ShowDistribution(d *dcbench.Distribution) error {
	rg := d.Groups[0]
	plot := kernelext.ScatterPlot{Title: fmt.Sprintf("t-SNE of class %s (%s features)", d.ClassName, d.Model),
		NoTicks: true, EqualAspect: true, Width: 800, Height: 560,
		Groups: []kernelext.ScatterGroup{{Name: fmt.Sprintf("real (%d)", len(rg.X)), X: rg.X, Y: rg.Y, Color: "#a8a8a8", Size: 2.2}}}
	for i, g := range d.Groups[1:] {
		plot.Groups = append(plot.Groups, kernelext.ScatterGroup{Name: g.Name, X: g.X, Y: g.Y,
			Color: kernelext.Palette[i%len(kernelext.Palette)], Marker: kernelext.Markers[(i+1)%len(kernelext.Markers)], Size: 5.5})
	}
	if _, err := plot.Display("tsne"); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px"><tr>`)
	for _, h := range []string{"set", "images", "centroid offset (0 best)", "spread (real = 1)", "coverage (↑)", "MMD (0 best)"} {
		fmt.Fprintf(&b, `<th style="border-bottom:1px solid #333;padding:2px 10px">%s</th>`, html.EscapeString(h))
	}
	b.WriteString(`</tr>`)
	for _, x := range d.Bias {
		fmt.Fprintf(&b, `<tr><td style="padding:2px 10px">%s</td>`, html.EscapeString(x.Name))
		for _, v := range []string{fmt.Sprint(x.N), fmt.Sprintf("%.3f", x.CentroidOffset), fmt.Sprintf("%.3f", x.Spread),
			fmt.Sprintf("%.3f", x.Coverage), fmt.Sprintf("%.3f", x.MMD)} {
			fmt.Fprintf(&b, `<td style="padding:2px 10px;text-align:right">%s</td>`, v)
		}
		b.WriteString(`</tr>`)
	}
	fmt.Fprintf(&b, `</table><p style="font-family:sans-serif;font-size:12px;color:#444">Embedding network %s trained %d epochs (test accuracy %.1f %%); coverage with k = %d. The paper shows Fig. 7 as a picture only.</p>`,
		html.EscapeString(d.Model), d.Epochs, d.Accuracy, d.CoverageK)
	_, err := kernelext.DisplayHTML("bias", b.String())
	return err
}
