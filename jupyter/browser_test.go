package jupyter

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/convnotes/convnotes/kernel"
	"github.com/convnotes/convnotes/kernel/nbformat"
)

// browserNotebook is the notebook the browser test runs: the shortest, with figures.
const browserNotebook = "notebooks/04_deconvolution.ipynb"

// pageState is what the browser test reads from the notebook page.
type pageState struct {
	Kernel    string `json:"kernel"`    // kernelspec name of the page's kernel
	Connected bool   `json:"connected"` // the page's kernel websocket is up
	Idle      bool   `json:"idle"`      // the kernel indicator shows idle
	Code      int    `json:"code"`      // code cells
	Done      int    `json:"done"`      // code cells with an execution count
	Running   int    `json:"running"`   // code cells queued or running ([*])
	Outputs   []int  `json:"outputs"`   // outputs of each code cell
	Errors    int    `json:"errors"`    // error outputs shown
	Images    int    `json:"images"`    // PNG figures in the outputs
	Loaded    int    `json:"loaded"`    // figures the browser decoded (natural width > 0)
}

// pageStateJS reads a pageState from Jupyter Notebook 6's page.
const pageStateJS = `(() => {
  const nb = Jupyter.notebook, k = nb.kernel;
  const code = nb.get_cells().filter(c => c.cell_type === 'code');
  const imgs = Array.from(document.querySelectorAll('.output_png img'));
  const icon = document.querySelector('#kernel_indicator_icon');
  return {
    kernel: k ? k.name : '', connected: !!k && k.is_connected(),
    idle: !!icon && icon.classList.contains('kernel_idle_icon'),
    code: code.length,
    done: code.filter(c => typeof c.input_prompt_number === 'number').length,
    running: code.filter(c => c.input_prompt_number === '*').length,
    outputs: code.map(c => c.output_area.outputs.length),
    errors: document.querySelectorAll('.output_area .output_error').length,
    images: imgs.length,
    loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
  };
})()`

// TestBrowserRunsNotebook opens notebook 04 in Jupyter Notebook's own page in headless Chromium, runs all
// cells as "Cell > Run All" does, and checks in the page that every cell ran, none failed, and every figure
// was drawn. It keeps a screenshot in out/test-artifacts/.
func TestBrowserRunsNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Jupyter server, a GoNB kernel and Chromium")
	}
	requireProgram(t, DefaultJupyter, "jupyter-notebook")
	requireProgram(t, DefaultChromium, "chromium")
	root := moduleRoot(t)
	nb, err := nbformat.ReadFile(filepath.Join(root, browserNotebook))
	if err != nil {
		t.Fatal(err)
	}
	// The page saves the notebook as it runs: serve a copy.
	served := t.TempDir()
	data, err := os.ReadFile(filepath.Join(root, browserNotebook))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(served, filepath.Base(browserNotebook)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	specs := installSpec(t)
	t.Cleanup(func() { _ = os.RemoveAll(specs) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	srv, err := StartServer(ctx, ServerOptions{Root: served, DataDir: specs, Env: []string{"CONVNOTES_QUICK=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	b := startBrowser(t)

	url := srv.URL + "/notebooks/" + filepath.Base(browserNotebook) + "?token=" + srv.Token
	if err := b.call(ctx, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		t.Fatal(err)
	}
	var st pageState
	poll := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			var ready bool
			if err := b.eval(ctx, "typeof Jupyter !== 'undefined' && !!Jupyter.notebook && Jupyter.notebook._fully_loaded === true", &ready); err == nil && ready {
				if err := b.eval(ctx, pageStateJS, &st); err == nil && ok() {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page never %s within %s: %+v\nserver log:\n%s", what, d, st, tail(srv.Log(), 30))
			}
			time.Sleep(time.Second)
		}
	}
	poll("connected its kernel", 3*time.Minute, func() bool { return st.Connected && st.Idle })
	if st.Kernel != kernel.KernelSpecName {
		t.Fatalf("the page opened the notebook with kernel %q, want %q (the notebook's metadata)", st.Kernel, kernel.KernelSpecName)
	}
	start := time.Now()
	if err := b.eval(ctx, "Jupyter.notebook.clear_all_output(); Jupyter.notebook.execute_all_cells(); true", nil); err != nil {
		t.Fatal(err)
	}
	poll("finished running all cells", 15*time.Minute, func() bool {
		return st.Running == 0 && st.Done == st.Code && st.Idle
	})
	t.Logf("Run All in the page: %d code cells in %s", st.Code, time.Since(start).Round(time.Second))
	// Figures may still be decoding: give them a moment.
	poll("drew its figures", time.Minute, func() bool { return st.Loaded == st.Images })

	pngCells := 0
	i := 0
	for _, c := range nb.Cells {
		if c.Type != nbformat.CellCode {
			continue
		}
		if slices.Contains(c.Tags(), "nbtest:expect-png") {
			pngCells++
		}
		if len(c.Outputs) > 0 && i < len(st.Outputs) && st.Outputs[i] == 0 {
			t.Errorf("code cell %d (%s) shows no output; the saved notebook has %d", i+1, c.Head(1), len(c.Outputs))
		}
		i++
	}
	if st.Errors > 0 {
		t.Errorf("the page shows %d error outputs", st.Errors)
	}
	if st.Images < pngCells || st.Images == 0 {
		t.Errorf("the page shows %d figures, want at least %d (cells tagged nbtest:expect-png)", st.Images, pngCells)
	}

	artifacts := filepath.Join(root, "out", "test-artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "browser-"+filepath.Base(browserNotebook)+".png")
	_ = b.eval(ctx, "(() => { const i = document.querySelector('.output_png img'); if (i) i.scrollIntoView(); return true })()", nil)
	if err := b.screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page after Run All: %s (%+v)", shot, st)
}
