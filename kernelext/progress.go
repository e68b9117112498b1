package kernelext

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// ProgressMode selects how a [Progress] reports.
type ProgressMode int

const (
	// ProgressAuto picks ProgressNotebook under GoNB, ProgressTerminal if the writer is a
	// terminal, and ProgressLog otherwise.
	ProgressAuto ProgressMode = iota
	// ProgressNotebook updates one HTML output block in place.
	ProgressNotebook
	// ProgressTerminal redraws one line with a carriage return.
	ProgressTerminal
	// ProgressLog prints a full line now and then, for logs and CI.
	ProgressLog
)

// ProgressOptions configure [NewProgressWith]. The zero value gives the defaults of
// [NewProgress].
type ProgressOptions struct {
	// Mode; ProgressAuto by default.
	Mode ProgressMode
	// Writer receives terminal and log output; nil means os.Stderr.
	Writer io.Writer
	// Interval is the minimum time between two redraws: 0 means 200ms in a notebook (at
	// most 5 updates per second), 100ms in a terminal and 5s in log mode.
	Interval time.Duration
	// LogPercentStep: in log mode a line is also printed each time the percentage crosses
	// a multiple of it. 0 means 10; negative disables.
	LogPercentStep float64
	// BarWidth is the width of the terminal bar in characters; 0 means 30.
	BarWidth int
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// HTML receives the notebook rendering; nil means gonbui.UpdateHTML on an output block
	// created for this progress bar.
	HTML func(html string)
	// Initial is the count already done when the bar starts: a run resumed from a
	// checkpoint, or a bar created at a loop's first report. Those steps fill the bar but
	// are left out of the rate and ETA, which count only the steps made since the start.
	Initial int
}

// Progress reports the progress of a long loop (condensation iterations, evaluation runs):
// a bar, percentage, count, rate, ETA and a message. It is safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	title    string
	total    int
	done     int
	msg      string
	opts     ProgressOptions
	mode     ProgressMode
	start    time.Time
	last     time.Time // last redraw
	lastLen  int       // terminal: length of the last line drawn
	lastStep int       // log: percentage bucket of the last line
	finished bool
}

// NewProgress starts a progress report for total steps (total ≤ 0: unknown), reporting to
// the notebook under GoNB, else to stderr as a one-line bar if it is a terminal, else as
// occasional log lines.
func NewProgress(title string, total int) *Progress {
	return NewProgressWith(title, total, ProgressOptions{})
}

// NewProgressWith is [NewProgress] with options (output writer, mode, clock, intervals).
func NewProgressWith(title string, total int, opts ProgressOptions) *Progress {
	if opts.Writer == nil {
		opts.Writer = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LogPercentStep == 0 {
		opts.LogPercentStep = 10
	}
	if opts.BarWidth <= 0 {
		opts.BarWidth = 30
	}
	mode := opts.Mode
	if mode == ProgressAuto {
		switch {
		case IsNotebook():
			mode = ProgressNotebook
		case isTerminal(opts.Writer):
			mode = ProgressTerminal
		default:
			mode = ProgressLog
		}
	}
	if opts.Interval <= 0 {
		switch mode {
		case ProgressNotebook:
			opts.Interval = 200 * time.Millisecond
		case ProgressTerminal:
			opts.Interval = 100 * time.Millisecond
		default:
			opts.Interval = 5 * time.Second
		}
	}
	if mode == ProgressNotebook && opts.HTML == nil {
		id := "kx-progress-" + gonbui.UniqueId()
		opts.HTML = func(h string) { gonbui.UpdateHTML(id, h) }
	}
	now := opts.Now()
	initial := max(opts.Initial, 0)
	p := &Progress{title: title, total: total, done: initial, opts: opts, mode: mode, start: now, last: now}
	if mode == ProgressNotebook {
		p.render(now) // show the empty bar at once
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Mode returns the mode in use (never ProgressAuto).
func (p *Progress) Mode() ProgressMode { return p.mode }

// Update sets the number of steps done and the message, redrawing if enough time passed
// since the last redraw. Updates after [Progress.Done] are ignored.
func (p *Progress) Update(done int, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done, p.msg = max(done, 0), msg
	p.maybeRender()
}

// Add advances the count by n steps, keeping the message.
func (p *Progress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done = max(p.done+n, 0)
	p.maybeRender()
}

// Done marks the end (keeping the count reached) and always draws the final state; a
// terminal line is ended with a newline. Calling it again does nothing.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.render(p.opts.Now())
}

func (p *Progress) maybeRender() {
	now := p.opts.Now()
	due := now.Sub(p.last) >= p.opts.Interval
	if p.mode == ProgressLog && p.opts.LogPercentStep > 0 && p.total > 0 {
		if p.step() > p.lastStep {
			due = true
		}
	}
	if due {
		p.render(now)
	}
}

// step returns the log-mode percentage bucket.
func (p *Progress) step() int {
	return int(math.Floor(p.percent() / p.opts.LogPercentStep))
}

func (p *Progress) percent() float64 {
	if p.total <= 0 {
		return 0
	}
	return min(100, 100*float64(p.done)/float64(p.total))
}

func (p *Progress) render(now time.Time) {
	p.last = now
	switch p.mode {
	case ProgressNotebook:
		p.opts.HTML(p.html(now))
	case ProgressTerminal:
		line := p.terminalLine(now)
		n := len([]rune(line))
		pad := ""
		if n < p.lastLen {
			pad = strings.Repeat(" ", p.lastLen-n)
		}
		p.lastLen = n
		end := ""
		if p.finished {
			end = "\n"
		}
		fmt.Fprintf(p.opts.Writer, "\r%s%s%s", line, pad, end)
	default:
		if p.total > 0 && p.opts.LogPercentStep > 0 {
			p.lastStep = p.step()
		}
		fmt.Fprintln(p.opts.Writer, p.logLine(now))
	}
}

// stats returns the count, rate, elapsed and ETA texts.
func (p *Progress) stats(now time.Time) (count, rate, elapsed, eta string) {
	el := now.Sub(p.start)
	if p.total > 0 {
		count = fmt.Sprintf("%d/%d", p.done, p.total)
	} else {
		count = fmt.Sprint(p.done)
	}
	elapsed = fmtDuration(el)
	if made := p.done - max(p.opts.Initial, 0); el > 0 && made > 0 {
		r := float64(made) / el.Seconds()
		rate = fmtRate(r)
		if p.total > 0 && p.done < p.total && !p.finished {
			eta = fmtDuration(time.Duration(float64(p.total-p.done) / r * float64(time.Second)))
		}
	}
	return
}

func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f/s", r)
	case r >= 10:
		return fmt.Sprintf("%.1f/s", r)
	case r >= 1:
		return fmt.Sprintf("%.2f/s", r)
	default:
		return fmt.Sprintf("%.2fs/it", 1/r)
	}
}

// fmtDuration formats d as m:ss or h:mm:ss.
func fmtDuration(d time.Duration) string {
	s := int64(math.Round(d.Seconds()))
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// parts joins the non-empty fields of a status line.
func parts(sep string, fields ...string) string {
	var out []string
	for _, f := range fields {
		if f != "" {
			out = append(out, f)
		}
	}
	return strings.Join(out, sep)
}

func (p *Progress) pctText() string {
	if p.total <= 0 {
		return ""
	}
	return fmt.Sprintf("%3.0f%%", p.percent())
}

func (p *Progress) terminalLine(now time.Time) string {
	count, rate, elapsed, eta := p.stats(now)
	bar := ""
	if p.total > 0 {
		filled := int(math.Round(p.percent() / 100 * float64(p.opts.BarWidth)))
		bar = "[" + strings.Repeat("#", filled) + strings.Repeat("-", p.opts.BarWidth-filled) + "]"
	}
	if eta != "" {
		eta = "ETA " + eta
	} else {
		eta = elapsed
	}
	return parts(" ", p.title, bar, p.pctText(), count, rate, eta, p.msg)
}

func (p *Progress) logLine(now time.Time) string {
	count, rate, elapsed, eta := p.stats(now)
	if eta != "" {
		eta = "ETA " + eta
	}
	state := strings.TrimSpace(p.pctText())
	if p.finished {
		state = "done"
	}
	title := p.title
	if title != "" {
		title += ":"
	}
	return parts(" ", title, state, count, rate, "elapsed "+elapsed, eta, p.msg)
}

// html renders the notebook block.
func (p *Progress) html(now time.Time) string {
	count, rate, elapsed, eta := p.stats(now)
	color := "#2196f3"
	if p.finished {
		color = "#4caf50"
	}
	width := p.percent()
	if p.total <= 0 && p.finished {
		width = 100
	}
	if eta != "" {
		eta = "ETA " + eta
	}
	var b strings.Builder
	b.WriteString(`<div class="kx-progress" style="font-family:sans-serif;font-size:13px;margin:2px 0">`)
	if p.title != "" {
		fmt.Fprintf(&b, `<b>%s</b> `, html.EscapeString(p.title))
	}
	fmt.Fprintf(&b, `<span style="display:inline-block;width:240px;height:12px;background:#e0e0e0;border-radius:3px;overflow:hidden;vertical-align:middle">`+
		`<span style="display:block;width:%.1f%%;height:100%%;background:%s"></span></span> `, width, color)
	fmt.Fprintf(&b, `<span style="font-family:monospace">%s</span>`,
		html.EscapeString(parts(" · ", strings.TrimSpace(p.pctText()), count, rate, "elapsed "+elapsed, eta)))
	if p.msg != "" {
		fmt.Fprintf(&b, ` <span style="color:#555">%s</span>`, html.EscapeString(p.msg))
	}
	b.WriteString(`</div>`)
	return b.String()
}
