// Package pretrained loads networks trained elsewhere into the project's models: the Keras Inception v3 that
// nsfwjs@4.4.0 ships in TensorFlow.js format (section 08), read with package tfjs and mapped tensor by tensor onto
// models.InceptionV3 with the nsfwjs head.
//
// For a notebook:
//
//	clf, err := pretrained.LoadNSFWJS(backend)             // locate (make data), verify, read, map
//	x, err := pretrained.Preprocess(img)                   // image.Image → 299×299×3 in [0, 1], as nsfwjs does
//	preds, err := clf.Classify(img1, img2)                 // top classes with probabilities
//	logits, taps, err := clf.Forward(batch, "mixed7")      // logits and intermediate activations
package pretrained

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/convnotes/convnotes/gomlx_models/models"
	"github.com/convnotes/convnotes/gomlx_models/summary"
	"github.com/convnotes/convnotes/gomlx_models/tfjs"
)

// NSFWJSClasses are the five outputs of the nsfwjs head, in order (nsfwjs's nsfw_classes.js).
var NSFWJSClasses = []string{"Drawing", "Hentai", "Neutral", "Porn", "Sexy"}

// Classifier is Inception v3 with the nsfwjs head and the nsfwjs weights, ready to run.
type Classifier struct {
	// Backend runs the graphs; Store holds the mapped variables.
	Backend compute.Backend
	Store   *model.Store
	// Config is the head (models.InceptionV3NSFWJS); Classes names its outputs.
	Config  models.InceptionV3Config
	Classes []string

	mu    sync.Mutex
	execs map[string]*model.Exec
}

// LoadNSFWJS locates and verifies the nsfwjs files (see tfjs.NSFWJSDir: `make data` fetches them), reads them and
// maps every tensor onto the project's Inception v3. Errors are one line and name the file or the tensors at fault.
func LoadNSFWJS(backend compute.Backend) (*Classifier, error) {
	if backend == nil {
		return nil, errors.New("pretrained: nil backend")
	}
	m, ts, err := tfjs.LoadNSFWJS()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := MapInceptionV3(backend, store, m, ts, models.InceptionV3NSFWJS); err != nil {
		return nil, err
	}
	return &Classifier{Backend: backend, Store: store, Config: models.InceptionV3NSFWJS,
		Classes: slices.Clone(NSFWJSClasses), execs: make(map[string]*model.Exec)}, nil
}

// KerasNames returns, for the Inception v3 built with cfg, the project variable (full path) each Keras weight name
// maps to: conv2d_k/kernel → the k-th conv2d_bn unit's "weights"; batch_normalization_k/{beta, moving_mean,
// moving_variance} → its "bn/…"; the Dense layers, in topology order, → "dense1", "dense2", … and the last one
// → "predictions". denseNames are the Keras names of the Dense layers, in order.
func KerasNames(cfg models.InceptionV3Config, denseNames []string) (map[string]string, error) {
	names := make(map[string]string)
	for _, u := range models.InceptionV3Units() {
		names[fmt.Sprintf("conv2d_%d/kernel", u.Index)] = "/" + u.Scope + "/weights"
		for _, v := range []string{"beta", "moving_mean", "moving_variance"} {
			names[fmt.Sprintf("batch_normalization_%d/%s", u.Index, v)] = "/" + u.Scope + "/bn/" + v
		}
	}
	if len(denseNames) != len(cfg.Hidden)+1 {
		return nil, fmt.Errorf("the topology has %d Dense layers %v, the head %d hidden + 1 output", len(denseNames), denseNames, len(cfg.Hidden))
	}
	for i, d := range denseNames {
		scope := fmt.Sprintf("/dense%d/dense", i+1)
		if i == len(denseNames)-1 {
			scope = "/predictions/dense"
		}
		names[d+"/kernel"] = scope + "/weights"
		names[d+"/bias"] = scope + "/biases"
	}
	return names, nil
}

// CheckTopology compares the Keras topology with the project's tables: the k-th Conv2D (Keras's conv2d_k) has the
// k-th unit's filters, kernel, strides and padding and no bias; every BatchNormalization has ε = 0.001 and no
// scale; the Dense layers have the head's widths. It returns one error listing every difference.
func CheckTopology(m *tfjs.Model, cfg models.InceptionV3Config) error {
	units := models.InceptionV3Units()
	var problems []string
	convs, bns := 0, 0
	var dense []int
	for _, l := range m.Layers() {
		c := l.Config
		switch l.ClassName {
		case "Conv2D":
			convs++
			var k int
			if _, err := fmt.Sscanf(l.Name, "conv2d_%d", &k); err != nil || k < 1 || k > len(units) {
				problems = append(problems, fmt.Sprintf("Conv2D %q has no counterpart", l.Name))
				continue
			}
			u := units[k-1].Conv
			pad := "same"
			if u.Padding.String() == "VALID" {
				pad = "valid"
			}
			want := fmt.Sprintf("filters=%d kernel=[%d %d] strides=[%d %d] padding=%s bias=false", u.Filters, u.KH, u.KW, u.Stride, u.Stride, pad)
			got := fmt.Sprintf("filters=%v kernel=%v strides=%v padding=%v bias=%v", c["filters"], c["kernel_size"], c["strides"], c["padding"], c["use_bias"])
			if got != want {
				problems = append(problems, fmt.Sprintf("%s (%s): %s, want %s", l.Name, units[k-1].Scope, got, want))
			}
		case "BatchNormalization":
			bns++
			if c["epsilon"] != 0.001 || c["scale"] != false || c["center"] != true {
				problems = append(problems, fmt.Sprintf("%s: epsilon=%v scale=%v center=%v, want 0.001 false true", l.Name, c["epsilon"], c["scale"], c["center"]))
			}
		case "Dense":
			u, _ := c["units"].(float64)
			dense = append(dense, int(u))
		}
	}
	if convs != len(units) || bns != len(units) {
		problems = append(problems, fmt.Sprintf("%d Conv2D and %d BatchNormalization layers, want %d of each", convs, bns, len(units)))
	}
	if want := append(slices.Clone(cfg.Hidden), cfg.Classes); !slices.Equal(dense, want) {
		problems = append(problems, fmt.Sprintf("Dense widths %v, want %v", dense, want))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not match the project's Inception v3: %s", m.File, strings.Join(problems, "; "))
	}
	return nil
}

// MapInceptionV3 creates the variables of models.InceptionV3(cfg) in store (by building its graph once) and sets
// each from the tensor of the same Keras name. It fails, listing them all, on any tensor without a variable, any
// variable without a tensor, and any shape that differs; and on a topology that differs from the tables.
func MapInceptionV3(backend compute.Backend, store *model.Store, m *tfjs.Model, ts []tfjs.Tensor, cfg models.InceptionV3Config) error {
	if err := CheckTopology(m, cfg); err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	var denseNames []string
	for _, l := range m.Layers() {
		if l.ClassName == "Dense" {
			denseNames = append(denseNames, l.Name)
		}
	}
	names, err := KerasNames(cfg, denseNames)
	if err != nil {
		return fmt.Errorf("pretrained: %s: %w", m.File, err)
	}
	fn, err := models.InceptionV3(cfg)
	if err != nil {
		return fmt.Errorf("pretrained: %w", err)
	}
	if _, err := summary.Of(backend, store, fn, shapes.Make(dtypes.Float32, 1, models.InceptionV3Size, models.InceptionV3Size, 3)); err != nil {
		return fmt.Errorf("pretrained: building Inception v3: %w", err)
	}
	vars := make(map[string]*model.Variable)
	for v := range store.IterVariables() {
		vars[v.Path()] = v
	}
	var extra, misshaped []string
	set := make(map[string]bool)
	for _, t := range ts {
		path, ok := names[t.Name]
		v := vars[path]
		if !ok || v == nil {
			extra = append(extra, t.Name)
			continue
		}
		if !slices.Equal(v.Shape().Dimensions, t.Shape) {
			misshaped = append(misshaped, fmt.Sprintf("%s %v → %s %v", t.Name, t.Shape, path, v.Shape().Dimensions))
			continue
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(t.Values, t.Shape...)); err != nil {
			return fmt.Errorf("pretrained: setting %s from %s: %w", path, t.Name, err)
		}
		set[path] = true
	}
	var missing []string
	for path := range vars {
		if !set[path] {
			missing = append(missing, path)
		}
	}
	sort.Strings(missing)
	var problems []string
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%d tensors without a variable: %s", len(extra), strings.Join(extra, ", ")))
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d variables without a tensor: %s", len(missing), strings.Join(missing, ", ")))
	}
	if len(misshaped) > 0 {
		problems = append(problems, fmt.Sprintf("%d shapes differ: %s", len(misshaped), strings.Join(misshaped, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("pretrained: %s does not map onto Inception v3: %s", m.File, strings.Join(problems, "; "))
	}
	return nil
}

// Forward runs the network on preprocessed images x ([batch, 299, 299, 3], values in [0, 1]) and returns the
// logits ([batch][classes], before nsfwjs's softmax) and the requested intermediate outputs (names as
// models.InceptionV3WithTaps: "mixed0" … "mixed10", "avg_pool", "dense1", "dense2"), flattened row-major.
func (c *Classifier) Forward(x *tensors.Tensor, taps ...string) (logits [][]float32, outs map[string]*tensors.Tensor, err error) {
	if x == nil || x.Rank() != 4 || x.Shape().Dimensions[3] != 3 || x.DType() != dtypes.Float32 {
		return nil, nil, fmt.Errorf("pretrained: want float32 images [batch, 299, 299, 3], got %v", x)
	}
	exec, err := c.exec(taps)
	if err != nil {
		return nil, nil, err
	}
	res, err := exec.Exec(x)
	if err != nil {
		return nil, nil, fmt.Errorf("pretrained: running Inception v3: %w", err)
	}
	flat := tensors.MustCopyFlatData[float32](res[0])
	n, k := res[0].Shape().Dimensions[0], res[0].Shape().Dimensions[1]
	for i := range n {
		logits = append(logits, flat[i*k:(i+1)*k])
	}
	outs = make(map[string]*tensors.Tensor, len(taps))
	for i, name := range taps {
		outs[name] = res[i+1]
	}
	return logits, outs, nil
}

// exec returns the (cached) executor returning the logits and the named taps.
func (c *Classifier) exec(taps []string) (*model.Exec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.Join(taps, ",")
	if e, ok := c.execs[key]; ok {
		return e, nil
	}
	cfg := c.Config
	e, err := model.NewExec(c.Backend, c.Store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		logits, all := models.InceptionV3WithTaps(scope, x, cfg)
		out := []*graph.Node{logits}
		for _, t := range taps {
			node, ok := all[t]
			if !ok {
				panic(fmt.Errorf("unknown tap %q", t))
			}
			out = append(out, node)
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("pretrained: %w", err)
	}
	c.execs[key] = e
	return e, nil
}

// Prediction is the classifier's answer for one image: the logits, their softmax, and the classes sorted by
// decreasing probability.
type Prediction struct {
	Logits, Probabilities []float32
	Top                   []ClassProbability
}

// String lists the classes by decreasing probability, e.g. "Neutral 96.8%, Sexy 1.5%, …".
func (p Prediction) String() string {
	parts := make([]string, len(p.Top))
	for i, c := range p.Top {
		parts[i] = fmt.Sprintf("%s %.1f%%", c.Class, 100*c.Probability)
	}
	return strings.Join(parts, ", ")
}

// ClassProbability is one class with its probability.
type ClassProbability struct {
	Class       string
	Probability float32
}

// Classify preprocesses the images as nsfwjs does ([Preprocess]) and returns their predictions.
func (c *Classifier) Classify(imgs ...image.Image) ([]Prediction, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	batch := make([]float32, 0, len(imgs)*models.InceptionV3Size*models.InceptionV3Size*3)
	for i, img := range imgs {
		x, err := Preprocess(img)
		if err != nil {
			return nil, fmt.Errorf("pretrained: image %d: %w", i, err)
		}
		batch = append(batch, x...)
	}
	logits, _, err := c.Forward(tensors.FromFlatDataAndDimensions(batch, len(imgs), models.InceptionV3Size, models.InceptionV3Size, 3))
	if err != nil {
		return nil, err
	}
	preds := make([]Prediction, len(logits))
	for i, l := range logits {
		p := Softmax(l)
		top := make([]ClassProbability, len(p))
		for j := range p {
			top[j] = ClassProbability{c.Classes[j], p[j]}
		}
		sort.SliceStable(top, func(a, b int) bool { return top[a].Probability > top[b].Probability })
		preds[i] = Prediction{Logits: l, Probabilities: p, Top: top}
	}
	return preds, nil
}

// Softmax returns exp(lᵢ)/Σ exp(lⱼ), computed stably in float64 (nsfwjs's final activation).
func Softmax(logits []float32) []float32 {
	m := math.Inf(-1)
	for _, l := range logits {
		m = math.Max(m, float64(l))
	}
	var sum float64
	e := make([]float64, len(logits))
	for i, l := range logits {
		e[i] = math.Exp(float64(l) - m)
		sum += e[i]
	}
	out := make([]float32, len(logits))
	for i := range e {
		out[i] = float32(e[i] / sum)
	}
	return out
}
