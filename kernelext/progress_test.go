package kernelext

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestProgressLogMode(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	p := NewProgressWith("condense", 1000, ProgressOptions{Writer: &buf, Now: clk.Now})
	if p.Mode() != ProgressLog {
		t.Fatalf("a bytes.Buffer should give log mode, got %v", p.Mode())
	}
	// 1000 steps, 10 ms each (100 it/s, 10 s in all): expect one line per 10% crossed.
	for i := 1; i <= 1000; i++ {
		clk.Advance(10 * time.Millisecond)
		p.Update(i, "loss 0.5")
		if i == 300 && !strings.Contains(buf.String(), "30%") {
			t.Errorf("no line at 30%%:\n%s", buf.String())
		}
	}
	p.Done()
	p.Done()          // idempotent
	p.Update(5, "no") // ignored after Done
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// 10%, 20%, …, 100% (10 lines) + the done line.
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 11:\n%s", len(lines), buf.String())
	}
	if want := "condense: 10% 100/1000 100/s elapsed 0:01 ETA 0:09 loss 0.5"; lines[0] != want {
		t.Errorf("first line\n got %q\nwant %q", lines[0], want)
	}
	if want := "condense: done 1000/1000 100/s elapsed 0:10 loss 0.5"; lines[10] != want {
		t.Errorf("last line\n got %q\nwant %q", lines[10], want)
	}
	if strings.Contains(buf.String(), "\r") {
		t.Errorf("log mode must not use carriage returns")
	}
}

func TestProgressLogModeTimeThrottle(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	// Percentage lines disabled: only the interval counts. Unknown total.
	p := NewProgressWith("eval", 0, ProgressOptions{Writer: &buf, Now: clk.Now, Mode: ProgressLog, Interval: 5 * time.Second, LogPercentStep: -1})
	for i := 1; i <= 120; i++ {
		clk.Advance(500 * time.Millisecond) // 2 it/s, 60 s in all: a line every 5 s = 12 lines
		p.Add(1)
	}
	p.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 13 {
		t.Fatalf("%d lines, want 12 + done:\n%s", len(lines), buf.String())
	}
	if want := "eval: 10 2.00/s elapsed 0:05"; lines[0] != want {
		t.Errorf("got %q, want %q", lines[0], want)
	}
	if want := "eval: done 120 2.00/s elapsed 1:00"; lines[12] != want {
		t.Errorf("got %q, want %q", lines[12], want)
	}
}

func TestProgressTerminalMode(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	p := NewProgressWith("train", 4, ProgressOptions{Writer: &buf, Now: clk.Now, Mode: ProgressTerminal, BarWidth: 8})
	clk.Advance(2 * time.Second)
	p.Update(1, "a long message")
	p.Update(2, "throttled") // same instant: not drawn
	clk.Advance(2 * time.Second)
	p.Update(2, "short")
	clk.Advance(4 * time.Second)
	p.Add(2)
	p.Done()
	out := buf.String()
	frames := strings.Split(out, "\r")[1:]
	if len(frames) != 4 {
		t.Fatalf("%d frames, want 4: %q", len(frames), out)
	}
	if want := "train [##------]  25% 1/4 2.00s/it ETA 0:06 a long message"; frames[0] != want {
		t.Errorf("frame 0\n got %q\nwant %q", frames[0], want)
	}
	// The shorter second frame is padded with spaces to erase the first.
	if !strings.HasPrefix(frames[1], "train [####----]  50% 2/4 2.00s/it ETA 0:04 short ") || len(frames[1]) != len(frames[0]) {
		t.Errorf("frame 1 %q", frames[1])
	}
	if strings.Contains(out, "throttled") {
		t.Errorf("throttled update was drawn")
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("Done must end the line once: %q", out)
	}
	if !strings.Contains(frames[3], "[########] 100% 4/4") {
		t.Errorf("final frame %q", frames[3])
	}
}

func TestProgressNotebookMode(t *testing.T) {
	var htmls []string
	clk := newFakeClock()
	p := NewProgressWith("condense <DC>", 100, ProgressOptions{Mode: ProgressNotebook, Now: clk.Now,
		HTML: func(h string) { htmls = append(htmls, h) }})
	if len(htmls) != 1 {
		t.Fatalf("the empty bar should be shown at once, got %d renders", len(htmls))
	}
	// 100 updates 10 ms apart (1 s): at most 5 renders per second.
	for i := 1; i <= 100; i++ {
		clk.Advance(10 * time.Millisecond)
		p.Update(i, "iter")
	}
	renders := len(htmls) - 1
	if renders < 4 || renders > 5 {
		t.Errorf("%d renders in 1 s, want 4–5", renders)
	}
	p.Done()
	last := htmls[len(htmls)-1]
	for _, want := range []string{`class="kx-progress"`, "condense &lt;DC&gt;", "100%", "100/100", "iter", "width:100.0%"} {
		if !strings.Contains(last, want) {
			t.Errorf("final HTML lacks %q: %s", want, last)
		}
	}
	mid := htmls[2]
	if !strings.Contains(mid, "ETA") || !strings.Contains(mid, "/s") {
		t.Errorf("intermediate HTML lacks rate/ETA: %s", mid)
	}
}

func TestProgressConcurrent(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgressWith("par", 800, ProgressOptions{Writer: &buf, Mode: ProgressLog})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	p.Done()
	if !strings.Contains(buf.String(), "done 800/800") {
		t.Errorf("lost updates: %s", buf.String())
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0:00", 59 * time.Second: "0:59", 61 * time.Second: "1:01", 3723 * time.Second: "1:02:03", -time.Second: "0:00",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func ExampleNewProgressWith() {
	// A fake clock: each evaluation run takes 30 s, more than the 5 s log interval, so every
	// update prints. In a notebook, NewProgress("evaluate", 5) would update one HTML block
	// instead, and in a terminal redraw one line.
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewProgressWith("evaluate", 5, ProgressOptions{
		Writer: os.Stdout, Mode: ProgressLog, Now: func() time.Time { return now }})
	for run := 1; run <= 5; run++ {
		now = now.Add(30 * time.Second)
		p.Update(run, fmt.Sprintf("run %d", run))
	}
	p.Done()
	// Output:
	// evaluate: 20% 1/5 30.00s/it elapsed 0:30 ETA 2:00 run 1
	// evaluate: 40% 2/5 30.00s/it elapsed 1:00 ETA 1:30 run 2
	// evaluate: 60% 3/5 30.00s/it elapsed 1:30 ETA 1:00 run 3
	// evaluate: 80% 4/5 30.00s/it elapsed 2:00 ETA 0:30 run 4
	// evaluate: 100% 5/5 30.00s/it elapsed 2:30 run 5
	// evaluate: done 5/5 30.00s/it elapsed 2:30 run 5
}

// TestProgressInitial: steps already done when the bar starts (a resumed run) fill the bar
// but stay out of the rate and ETA.
func TestProgressInitial(t *testing.T) {
	for _, tc := range []struct {
		name    string
		initial int
		updates []int // one update every 2 s
		want    string
	}{
		{"fresh", 0, []int{1, 2}, "cond: 20% 2/10 2.00s/it elapsed 0:04 ETA 0:16"},
		{"created at the first report", 1, []int{2, 3}, "cond: 30% 3/10 2.00s/it elapsed 0:04 ETA 0:14"},
		{"resumed at 5", 5, []int{6, 7}, "cond: 70% 7/10 2.00s/it elapsed 0:04 ETA 0:06"},
		{"resumed, nothing made yet", 5, []int{5}, "cond: 50% 5/10 elapsed 0:02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			clk := newFakeClock()
			p := NewProgressWith("cond", 10, ProgressOptions{Writer: &buf, Now: clk.Now, Mode: ProgressLog,
				Interval: time.Hour, LogPercentStep: -1, Initial: tc.initial})
			for _, u := range tc.updates {
				clk.Advance(2 * time.Second)
				p.Update(u, "")
			}
			p.mu.Lock()
			got := p.logLine(clk.Now())
			p.mu.Unlock()
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
