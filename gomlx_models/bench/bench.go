// Package bench measures training and inference throughput of the benchmark CNNs — the small MNIST CNN and the
// CIFAR ResNet-20 — with (a) the project layers (layers.Fast on the Go backend), (b) GoMLX's stock layers
// (layers.Native: graph.Convolve, graph.MaxPool, norm.BatchNorm) on the same backend and (c) PyTorch on the CPU
// (scripts/torch_bench.py, same model definitions, batch, optimizer and method), interleaved round by round in one
// run so that the load other users put on the machine hits all columns alike. It reports median images/s, the
// ratios project/stock and project/PyTorch, and peak memory.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/optim"
)

// Model names accepted in [Config.Models]; they match scripts/torch_bench.py's.
const (
	SmallCNN = "lenet"
	ResNet20 = "resnet20"
)

// Modes accepted in [Config.Modes].
const (
	Train = "train"
	Infer = "infer"
)

// Column names of the report.
const (
	ColumnProject = "project"
	ColumnStock   = "stock"
	ColumnTorch   = "torch"
)

// Optimizer of the training benchmark, as in scripts/torch_bench.py: SGD with momentum (torch.optim.SGD).
const (
	learningRate = 0.01
	momentum     = 0.9
)

// Config of a benchmark run.
type Config struct {
	// Models to run: SmallCNN and/or ResNet20.
	Models []string
	// Modes to run: Train and/or Infer.
	Modes []string
	// Batch per model; 0 takes the default (64 for SmallCNN, 128 for ResNet20, as in the issue).
	Batch map[string]int
	// Warmup steps per column before the first round (they include graph compilation).
	Warmup int
	// Rounds of interleaving: in each round every column runs in turn.
	Rounds int
	// MinSteps and MaxSteps bound the timed steps of one column in one round; within them a column runs until
	// MinSeconds have passed.
	MinSteps, MaxSteps int
	MinSeconds         float64
	// Columns to run (ColumnProject, ColumnStock, ColumnTorch); empty means all three.
	Columns []string
	// Torch configures the PyTorch column.
	Torch TorchConfig
	// Progress, if not nil, receives one line per finished measurement.
	Progress func(line string)
}

// DefaultConfig is the full benchmark of the issue: both models, training and inference, batches 64 and 128.
func DefaultConfig() Config {
	return Config{
		Models: []string{SmallCNN, ResNet20}, Modes: []string{Train, Infer},
		Warmup: 1, Rounds: 3, MinSteps: 1, MaxSteps: 20, MinSeconds: 3,
		Torch: DefaultTorchConfig(),
	}
}

// QuickConfig is a CI-sized run: the same models and modes with batch 8, one round, a single timed step.
func QuickConfig() Config {
	c := DefaultConfig()
	c.Batch = map[string]int{SmallCNN: 8, ResNet20: 8}
	c.Warmup, c.Rounds, c.MinSteps, c.MaxSteps, c.MinSeconds = 1, 1, 1, 3, 0.5
	return c
}

// BatchFor returns the batch size used for the model.
func (c Config) BatchFor(modelName string) int {
	if b := c.Batch[modelName]; b > 0 {
		return b
	}
	if modelName == SmallCNN {
		return 64
	}
	return 128
}

func (c Config) wants(column string) bool {
	return len(c.Columns) == 0 || slices.Contains(c.Columns, column)
}

func (c Config) validate() error {
	if len(c.Models) == 0 || len(c.Modes) == 0 {
		return errors.New("bench: no model or mode selected")
	}
	for _, m := range c.Models {
		if m != SmallCNN && m != ResNet20 {
			return fmt.Errorf("bench: unknown model %q (want %s or %s)", m, SmallCNN, ResNet20)
		}
		if c.BatchFor(m) < 1 {
			return fmt.Errorf("bench: batch for %s must be positive", m)
		}
	}
	for _, m := range c.Modes {
		if m != Train && m != Infer {
			return fmt.Errorf("bench: unknown mode %q (want %s or %s)", m, Train, Infer)
		}
	}
	for _, col := range c.Columns {
		if col != ColumnProject && col != ColumnStock && col != ColumnTorch {
			return fmt.Errorf("bench: unknown column %q", col)
		}
	}
	if c.Rounds < 1 || c.MinSteps < 1 || c.MaxSteps < c.MinSteps || c.Warmup < 0 {
		return fmt.Errorf("bench: need Rounds ≥ 1, 1 ≤ MinSteps ≤ MaxSteps and Warmup ≥ 0, got %d, %d, %d, %d",
			c.Rounds, c.MinSteps, c.MaxSteps, c.Warmup)
	}
	return nil
}

// Measurement is the outcome of one column on one model and mode.
type Measurement struct {
	Model, Mode, Column string
	Batch               int
	// StepTimes of all timed steps, over all rounds.
	StepTimes []time.Duration
	// PeakBytes is the peak memory of the column: for Go columns the peak of live Go heap objects while the
	// column's steps ran (the Go backend's buffers live there), for PyTorch the peak RSS of its process.
	PeakBytes uint64
	// Err is set if the column could not run (e.g. PyTorch missing); the other columns still report.
	Err error
}

// Median is the median step time (0 if there are none).
func (m Measurement) Median() time.Duration {
	if len(m.StepTimes) == 0 {
		return 0
	}
	ts := slices.Clone(m.StepTimes)
	slices.Sort(ts)
	return ts[len(ts)/2]
}

// ImagesPerSec is the throughput at the median step time (0 if unknown).
func (m Measurement) ImagesPerSec() float64 {
	med := m.Median()
	if med <= 0 {
		return 0
	}
	return float64(m.Batch) / med.Seconds()
}

// Report holds all measurements of a run, in order.
type Report struct {
	Measurements []Measurement
	// Backend describes the Go backend used for the Go columns.
	Backend string
	// ProcessPeakRSS is the peak resident memory of this (Go) process over the whole run (VmHWM).
	ProcessPeakRSS uint64
	// TorchVersion as reported by the script, or empty.
	TorchVersion string
	// TorchNote explains a missing PyTorch column and how to install it.
	TorchNote string
}

// Find returns the measurement of a model, mode and column.
func (r *Report) Find(modelName, mode, column string) (Measurement, bool) {
	for _, m := range r.Measurements {
		if m.Model == modelName && m.Mode == mode && m.Column == column {
			return m, true
		}
	}
	return Measurement{}, false
}

// Run runs the benchmark on backend (which should be the Go backend: the project/stock comparison is about it).
// Columns run interleaved: warm-up of each, then cfg.Rounds rounds in which each column runs in turn.
func Run(ctx context.Context, backend compute.Backend, cfg Config) (report *Report, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if backend == nil {
		return nil, errors.New("bench: nil backend")
	}
	report = &Report{Backend: backend.Description()}
	torch := newTorchRunner(cfg.Torch)
	if cfg.wants(ColumnTorch) {
		if err := torch.check(ctx); err != nil {
			report.TorchNote = err.Error()
			torch = nil
		} else {
			report.TorchVersion = torch.version
		}
	} else {
		torch = nil
	}
	for _, modelName := range cfg.Models {
		for _, mode := range cfg.Modes {
			ms, err := runOne(ctx, backend, cfg, torch, modelName, mode)
			if err != nil {
				return report, err
			}
			report.Measurements = append(report.Measurements, ms...)
		}
	}
	report.ProcessPeakRSS = processPeakRSS()
	return report, nil
}

// stepper runs one step of one column.
type stepper interface {
	step() error
}

// runOne measures every column for one model and mode.
func runOne(ctx context.Context, backend compute.Backend, cfg Config, torch *torchRunner, modelName, mode string) (
	[]Measurement, error) {
	batch := cfg.BatchFor(modelName)
	type goColumn struct {
		m    *Measurement
		impl layers.Impl
		run  stepper
	}
	var goCols []goColumn
	for _, c := range []struct {
		name string
		impl layers.Impl
	}{{ColumnProject, layers.Auto}, {ColumnStock, layers.Native}} {
		if cfg.wants(c.name) {
			goCols = append(goCols, goColumn{m: &Measurement{Model: modelName, Mode: mode, Column: c.name, Batch: batch}, impl: c.impl})
		}
	}
	var torchM *Measurement
	if cfg.wants(ColumnTorch) {
		torchM = &Measurement{Model: modelName, Mode: mode, Column: ColumnTorch, Batch: batch}
		if torch == nil {
			torchM.Err = errors.New("PyTorch not available")
		}
	}
	// Build and warm up the Go columns (the first step compiles the graph).
	for i := range goCols {
		c := &goCols[i]
		run, err := newGoStepper(backend, modelName, mode, batch, c.impl)
		if err == nil {
			for range max(cfg.Warmup, 1) {
				if err = run.step(); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %s %s %s: %w", modelName, mode, c.m.Column, err)
		}
		c.run = run
	}
	for round := range cfg.Rounds {
		for i := range goCols {
			c := &goCols[i]
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			times, peak, err := timeSteps(c.run, cfg)
			if err != nil {
				return nil, fmt.Errorf("bench: %s %s %s round %d: %w", modelName, mode, c.m.Column, round+1, err)
			}
			c.m.StepTimes = append(c.m.StepTimes, times...)
			c.m.PeakBytes = max(c.m.PeakBytes, peak)
		}
		if torchM != nil && torch != nil {
			res, err := torch.run(ctx, modelName, mode, batch, cfg, round == 0)
			if err != nil {
				torchM.Err = err
				torch = nil
			} else {
				torchM.StepTimes = append(torchM.StepTimes, res.steps...)
				torchM.PeakBytes = max(torchM.PeakBytes, res.maxRSS)
			}
		}
	}
	var out []Measurement
	for _, c := range goCols {
		out = append(out, *c.m)
	}
	if torchM != nil {
		out = append(out, *torchM)
	}
	if cfg.Progress != nil {
		for _, m := range out {
			if m.Err != nil {
				cfg.Progress(fmt.Sprintf("%-8s %-5s %-7s: %v", m.Model, m.Mode, m.Column, m.Err))
			} else {
				cfg.Progress(fmt.Sprintf("%-8s %-5s %-7s: %8.1f images/s (median of %d steps)", m.Model, m.Mode, m.Column,
					m.ImagesPerSec(), len(m.StepTimes)))
			}
		}
	}
	return out, nil
}

// timeSteps runs s between cfg.MinSteps and cfg.MaxSteps times (until cfg.MinSeconds passed), returning each
// step's duration and the peak of live Go heap objects meanwhile.
func timeSteps(s stepper, cfg Config) ([]time.Duration, uint64, error) {
	runtime.GC()
	sampler := startHeapSampler()
	var times []time.Duration
	start := time.Now()
	for len(times) < cfg.MaxSteps && (len(times) < cfg.MinSteps || time.Since(start).Seconds() < cfg.MinSeconds) {
		t0 := time.Now()
		if err := s.step(); err != nil {
			sampler.stop()
			return nil, 0, err
		}
		times = append(times, time.Since(t0))
	}
	return times, sampler.stop(), nil
}

// heapSampler polls the live Go heap every few milliseconds and keeps the maximum.
type heapSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		return sample[0].Value.Uint64()
	}
	return 0
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: heapMetric}}
	h.peak = readHeap(sample)
	h.wg.Go(func() {
		ticker := time.NewTicker(2 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-ticker.C:
				h.peak = max(h.peak, readHeap(sample))
			}
		}
	})
	return h
}

func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.peak
}

// goStepper is a training or inference step of one model with one layers implementation.
type goStepper struct {
	trainer *train.Trainer
	exec    *model.Exec
	inShape []int
	batch   int
	x       []float32
	labels  []int32
}

// modelFn returns the model function and input shape (without batch) of a benchmark model.
func modelFn(modelName string) (func(*model.Scope, *graph.Node) *graph.Node, []int, error) {
	switch modelName {
	case SmallCNN:
		return models.SmallCNN.Model(), []int{28, 28, 1}, nil
	case ResNet20:
		fn, err := models.ResNetCIFAR(20)
		return fn, []int{32, 32, 3}, err
	}
	return nil, nil, fmt.Errorf("unknown model %q", modelName)
}

func newGoStepper(backend compute.Backend, modelName, mode string, batch int, impl layers.Impl) (*goStepper, error) {
	fn, inShape, err := modelFn(modelName)
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	store.RootScope().SetParam(layers.ParamImpl, impl)
	s := &goStepper{inShape: append([]int{batch}, inShape...), batch: batch}
	// Random data, as in scripts/torch_bench.py (normal inputs, uniform labels), fixed seed.
	rng := rand.New(rand.NewSource(0))
	n := batch
	for _, d := range inShape {
		n *= d
	}
	s.x = make([]float32, n)
	for i := range s.x {
		s.x[i] = float32(rng.NormFloat64())
	}
	s.labels = make([]int32, batch)
	for i := range s.labels {
		s.labels[i] = int32(rng.Intn(10))
	}
	if mode == Train {
		opt := optim.NewMomentum(learningRate, momentum)
		if err := opt.Validate(); err != nil {
			return nil, err
		}
		s.trainer = train.NewTrainer(backend, store, fn, loss.SparseCategoricalCrossEntropyLogits, opt, nil, nil)
		return s, nil
	}
	s.exec, err = model.NewExec(backend, store, fn)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *goStepper) step() error {
	x := tensors.FromFlatDataAndDimensions(slices.Clone(s.x), s.inShape...)
	if s.trainer != nil {
		y := tensors.FromFlatDataAndDimensions(slices.Clone(s.labels), s.batch, 1)
		out, err := s.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}})
		for _, t := range out {
			t.FinalizeAll()
		}
		return err
	}
	out, err := s.exec.Exec(x)
	x.FinalizeAll()
	for _, t := range out {
		t.FinalizeAll()
	}
	return err
}
