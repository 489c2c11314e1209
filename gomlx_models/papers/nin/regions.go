package nin

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/convnotes/convnotes/gomlx_models/layers"
	"github.com/convnotes/convnotes/plots"
)

// §2 of the NIN paper: "separation of the latent concepts […] maxout network […] can separate concepts that lie
// within convex sets. […] it makes an implicit assumption that instances of a latent concept lie within a convex
// set in the input space, which does not necessarily hold": a maxout unit's output h(x) is convex, so the set
// where it is below a threshold is convex; a linear or ReLU unit's is a half-plane; an MLP's can be any shape.

// Concept is a two-class problem on [−1, 1]²: the points where Inside holds are class 1.
type Concept struct {
	Name   string
	Inside func(x, y float64) bool
	// Boundary are the curves that bound the concept, for the figure.
	Boundary []plots.Series
}

// circle is the polyline of the circle of radius r around (cx, cy).
func circle(name string, cx, cy, r float64) plots.Series {
	s := plots.Series{Name: name}
	for i := 0; i <= 120; i++ {
		a := 2 * math.Pi * float64(i) / 120
		s.X, s.Y = append(s.X, cx+r*math.Cos(a)), append(s.Y, cy+r*math.Sin(a))
	}
	return s
}

// Concepts are the two problems: a disk off the centre (a convex set) and a ring (no convex set or complement of
// one holds it).
var Concepts = []Concept{
	{Name: "disk (convex)", Inside: func(x, y float64) bool { return math.Hypot(x-0.25, y+0.15) < 0.55 },
		Boundary: []plots.Series{circle("concept boundary", 0.25, -0.15, 0.55)}},
	{Name: "ring (not convex)", Inside: func(x, y float64) bool { r := math.Hypot(x, y); return r > 0.45 && r < 0.85 },
		Boundary: []plots.Series{circle("concept boundary", 0, 0, 0.85), circle("inner boundary", 0, 0, 0.45)}},
}

// Separator is a small network mapping a point [batch, 2] to two logits.
type Separator struct {
	Name  string
	Model func(scope *model.Scope, x *graph.Node) *graph.Node
}

// MaxoutPiecesRegion is the number of affine pieces of the maxout unit.
const MaxoutPiecesRegion = 8

// Separators are one linear unit, one ReLU unit, one maxout unit (each read out by a linear layer to two logits:
// the class-1 region is where the unit's output is above or below a threshold) and the MLP of an mlpconv layer
// (16 ReLU units, then the logits).
var Separators = []Separator{
	{"linear", func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.Dense(scope.In("out"), layers.Dense(scope.In("unit"), x, 1), 2)
	}},
	{"ReLU unit", func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.Dense(scope.In("out"), layers.ReLU(layers.Dense(scope.In("unit"), x, 1)), 2)
	}},
	{fmt.Sprintf("maxout (k=%d)", MaxoutPiecesRegion), func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.Dense(scope.In("out"), layers.Maxout(scope.In("unit"), x, 1, MaxoutPiecesRegion), 2)
	}},
	{"MLP-16", func(scope *model.Scope, x *graph.Node) *graph.Node {
		return layers.Dense(scope.In("out"), layers.ReLU(layers.Dense(scope.In("unit"), x, 16)), 2)
	}},
}

// RegionFit is one separator fitted to one concept.
type RegionFit struct {
	Concept   Concept
	Separator Separator
	// Correct of Tested fresh points are classified right.
	Correct, Tested int
	// Grid is P(class 1) on a GridN×GridN grid over [−1, 1]² (row y, column x, from −1).
	Grid  [][]float64
	GridN int
}

// Accuracy is Correct/Tested.
func (f RegionFit) Accuracy() float64 { return float64(f.Correct) / float64(f.Tested) }

// RegionSetup sizes the fits: TrainN points for Steps full-batch Adam steps at LR, tested on TestN fresh points.
type RegionSetup struct {
	TrainN, TestN, Steps, GridN int
	LR                          float64
	Seed                        uint64
}

// Regions is the setup of the experiment (it takes seconds, the same in every profile).
var Regions = RegionSetup{TrainN: 2000, TestN: 4000, Steps: 1500, GridN: 81, LR: 0.03, Seed: 5}

// points draws n uniform points of [−1, 1]² with their class under c.
func points(rng *rand.Rand, n int, c Concept) ([]float32, []int32) {
	xs, ys := make([]float32, 0, 2*n), make([]int32, n)
	for i := range n {
		x, y := 2*rng.Float64()-1, 2*rng.Float64()-1
		xs = append(xs, float32(x), float32(y))
		if c.Inside(x, y) {
			ys[i] = 1
		}
	}
	return xs, ys
}

// RegionPair is one fit of the experiment: a concept and a separator (indices into Concepts and Separators).
type RegionPair struct{ Concept, Separator int }

// The separators, by index.
const (
	sepLinear = iota
	sepReLU
	sepMaxout
	sepMLP
)

// RegionPairs are the fits of the experiment: every separator on the disk, and the maxout unit and the MLP on the
// ring (a linear or ReLU unit has no better answer there than a constant).
var RegionPairs = []RegionPair{{0, sepLinear}, {0, sepReLU}, {0, sepMaxout}, {0, sepMLP}, {1, sepMaxout}, {1, sepMLP}}

// FitRegions fits the separator of every pair to its concept (seeded: every separator of a concept sees the same
// points) and measures its accuracy on fresh points and its class-1 probability on a grid.
func FitRegions(backend compute.Backend, s RegionSetup, pairs []RegionPair) (fits []RegionFit, err error) {
	if backend == nil {
		return nil, errors.New("FitRegions: nil backend")
	}
	if s.TrainN < 1 || s.TestN < 1 || s.Steps < 1 || s.GridN < 2 {
		return nil, fmt.Errorf("FitRegions: invalid setup %+v", s)
	}
	defer func() {
		if r := recover(); r != nil {
			fits, err = nil, fmt.Errorf("FitRegions: %v", r)
		}
	}()
	grid := make([]float32, 0, 2*s.GridN*s.GridN)
	for r := range s.GridN {
		for c := range s.GridN {
			grid = append(grid, float32(-1+2*float64(c)/float64(s.GridN-1)), float32(-1+2*float64(r)/float64(s.GridN-1)))
		}
	}
	for _, pair := range pairs {
		if pair.Concept < 0 || pair.Concept >= len(Concepts) || pair.Separator < 0 || pair.Separator >= len(Separators) {
			return nil, fmt.Errorf("FitRegions: no pair %+v", pair)
		}
		ci, si := pair.Concept, pair.Separator
		c, sep := Concepts[ci], Separators[si]
		rng := rand.New(rand.NewPCG(s.Seed, uint64(ci)))
		trX, trY := points(rng, s.TrainN, c)
		teX, teY := points(rng, s.TestN, c)
		{
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(100*ci+si+1))
			trainer := gtrain.NewTrainer(backend, store, sep.Model, loss.SparseCategoricalCrossEntropyLogits,
				optimizer.Adam().LearningRate(s.LR).Done(), nil, nil)
			for range s.Steps {
				batch := gtrain.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(trX, s.TrainN, 2)},
					Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(trY, s.TrainN, 1)}}
				metrics, err := trainer.TrainStep(batch)
				if err != nil {
					return nil, fmt.Errorf("FitRegions %s / %s: %w", c.Name, sep.Name, err)
				}
				for _, m := range metrics {
					m.MustFinalizeAll()
				}
			}
			f := RegionFit{Concept: c, Separator: sep, Tested: s.TestN, GridN: s.GridN}
			probs, err := classOne(backend, store, sep.Model, teX)
			if err != nil {
				return nil, err
			}
			for i, p := range probs {
				if (p > 0.5) == (teY[i] == 1) {
					f.Correct++
				}
			}
			gp, err := classOne(backend, store, sep.Model, grid)
			if err != nil {
				return nil, err
			}
			for r := range s.GridN {
				f.Grid = append(f.Grid, gp[r*s.GridN:(r+1)*s.GridN])
			}
			fits = append(fits, f)
		}
	}
	return fits, nil
}

// classOne is P(class 1) of the model for the points xy (pairs).
func classOne(backend compute.Backend, store *model.Store, fn func(*model.Scope, *graph.Node) *graph.Node, xy []float32) ([]float64, error) {
	e, err := model.NewExec(backend, store, fn)
	if err != nil {
		return nil, err
	}
	defer e.Finalize()
	outs, err := e.Exec(tensors.FromFlatDataAndDimensions(xy, len(xy)/2, 2))
	if err != nil {
		return nil, err
	}
	logits, err := tensors.CopyFlatData[float32](outs[0])
	outs[0].MustFinalizeAll()
	if err != nil {
		return nil, err
	}
	p := make([]float64, len(logits)/2)
	for i := range p {
		p[i] = 1 / (1 + math.Exp(float64(logits[2*i]-logits[2*i+1])))
	}
	return p, nil
}

// At is the grid's P(class 1) nearest to (x, y).
func (f RegionFit) At(x, y float64) float64 {
	idx := func(v float64) int {
		return min(f.GridN-1, max(0, int(math.Round((v+1)/2*float64(f.GridN-1)))))
	}
	return f.Grid[idx(y)][idx(x)]
}

// RegionsFigure draws every fit's P(class 1) as contours with the concept's boundary, one row per concept.
func RegionsFigure(fits []RegionFit, cols int) (*plots.Figure, error) {
	var panels []plots.ContourPanel
	for _, f := range fits {
		panels = append(panels, plots.ContourPanel{
			Title: fmt.Sprintf("%s: %s %.1f%%", f.Concept.Name, f.Separator.Name, 100*f.Accuracy()),
			F:     f.At, XMin: -1, XMax: 1, YMin: -1, YMax: 1, Levels: 6, Paths: f.Concept.Boundary})
	}
	return plots.ContourGrid(panels, cols)
}
