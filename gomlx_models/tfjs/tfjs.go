// Package tfjs reads TensorFlow.js Layers models — a Keras topology, a weights manifest and binary weight shards —
// without JavaScript, so that a network trained elsewhere (the nsfwjs Inception v3 of section 08) can be loaded
// into a GoMLX model.
//
// The format (tfjs-core io: model.json and its weightsManifest):
//   - model.json holds "modelTopology" (the Keras model config: layers, their class names, configs and inbound
//     nodes) and "weightsManifest": a list of groups, each with the ordered "paths" of its shard files and the
//     ordered "weights" stored in them: name, shape, dtype and an optional "quantization".
//   - A group's shards, concatenated in order, hold its weights back to back, row-major, little-endian, each
//     taking numel × the size of its stored type: float32 4 bytes, or, when quantized, uint8 1, uint16 2 and
//     float16 2. uint8/uint16 values dequantize as q·scale + min (computed in float64, stored as float32, as
//     tfjs-core does); float16 values widen to float32.
//
// Bundles that ship the files as browserify modules (nsfwjs: model.min.js exporting the model.json object as a
// JavaScript literal, shards exporting their bytes as base64 strings) are read as well; see [ParseModel] and
// [DecodeShard].
//
// Every check is strict and every error is one line naming the file: a missing or truncated shard, shards longer
// than the manifest says, bad JSON or literal syntax, an unknown dtype, a duplicate weight name.
package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Model is a parsed model.json (or the object a model bundle exports).
type Model struct {
	// File is the name the model was read from, used in error messages.
	File string
	// Topology is the Keras model description.
	Topology Topology
	// Manifest lists the weight groups: their shard files and the weights stored in them, in order.
	Manifest []WeightGroup
	// Format, GeneratedBy and ConvertedBy are the optional provenance fields of TF.js ≥ 1.0.
	Format, GeneratedBy, ConvertedBy string
}

// WeightGroup is one entry of the weights manifest.
type WeightGroup struct {
	Paths   []string     `json:"paths"`
	Weights []WeightSpec `json:"weights"`
}

// WeightSpec describes one stored weight.
type WeightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *Quantization `json:"quantization,omitempty"`
}

// Quantization says how a weight is stored: as uint8 or uint16 codes q with value q·Scale + Min, or as float16.
type Quantization struct {
	DType         string   `json:"dtype"`
	Scale         *float64 `json:"scale,omitempty"`
	Min           *float64 `json:"min,omitempty"`
	OriginalDType string   `json:"original_dtype,omitempty"`
}

// Topology is the part of a Keras model config this package interprets.
type Topology struct {
	KerasVersion string `json:"keras_version"`
	Backend      string `json:"backend"`
	ModelConfig  struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Name   string  `json:"name"`
			Layers []Layer `json:"layers"`
		} `json:"config"`
	} `json:"model_config"`
}

// Layer is one Keras layer of the topology.
type Layer struct {
	Name      string         `json:"name"`
	ClassName string         `json:"class_name"`
	Config    map[string]any `json:"config"`
	// InboundNodes is Keras's [[[layer name, node index, tensor index, kwargs], …], …].
	InboundNodes [][][]any `json:"inbound_nodes"`
}

// Inputs returns the names of the layers feeding the layer's first call.
func (l Layer) Inputs() []string {
	if len(l.InboundNodes) == 0 {
		return nil
	}
	var names []string
	for _, in := range l.InboundNodes[0] {
		if len(in) > 0 {
			if s, ok := in[0].(string); ok {
				names = append(names, s)
			}
		}
	}
	return names
}

// Layers returns the topology's layers in file order.
func (m *Model) Layers() []Layer { return m.Topology.ModelConfig.Config.Layers }

// Tensor is a decoded weight, dequantized to float32, row-major in Shape.
type Tensor struct {
	Name   string
	Shape  []int
	Values []float32
}

// storedBytes is the size of one stored element, by the stored (quantized or plain) dtype.
var storedBytes = map[string]int{"float32": 4, "uint8": 1, "uint16": 2, "float16": 2}

// maxElements bounds a weight's element count, so that a corrupt manifest cannot ask for absurd allocations.
const maxElements = 1 << 31

// ParseModel parses a model file: model.json (JSON) or a JavaScript module exporting the same object as a literal
// (nsfwjs's model.min.js). name is used in error messages. The manifest is validated (see [WeightSpec]).
func ParseModel(name string, content []byte) (*Model, error) {
	var raw struct {
		ModelTopology   json.RawMessage `json:"modelTopology"`
		WeightsManifest []WeightGroup   `json:"weightsManifest"`
		Format          string          `json:"format"`
		GeneratedBy     string          `json:"generatedBy"`
		ConvertedBy     *string         `json:"convertedBy"`
	}
	text := bytes.TrimSpace(content)
	if !bytes.HasPrefix(text, []byte("{")) {
		v, err := exportedLiteral(content)
		if err != nil {
			return nil, fmt.Errorf("tfjs: %s: %w", name, err)
		}
		if text, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("tfjs: %s: %w", name, err)
		}
	}
	if err := json.Unmarshal(text, &raw); err != nil {
		return nil, fmt.Errorf("tfjs: %s: bad model JSON: %s", name, oneLine(err))
	}
	if len(raw.ModelTopology) == 0 || string(raw.ModelTopology) == "null" {
		return nil, fmt.Errorf("tfjs: %s: no modelTopology", name)
	}
	m := &Model{File: name, Manifest: raw.WeightsManifest, Format: raw.Format, GeneratedBy: raw.GeneratedBy}
	if raw.ConvertedBy != nil {
		m.ConvertedBy = *raw.ConvertedBy
	}
	if err := json.Unmarshal(raw.ModelTopology, &m.Topology); err != nil {
		return nil, fmt.Errorf("tfjs: %s: bad modelTopology: %s", name, oneLine(err))
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", name, err)
	}
	return m, nil
}

// validate checks the manifest: at least one group with shards and weights, unique names, known dtypes and
// quantizations with their parameters, non-negative shapes of bounded size.
func (m *Model) validate() error {
	if len(m.Manifest) == 0 {
		return errors.New("no weightsManifest")
	}
	seen := make(map[string]bool)
	for gi, g := range m.Manifest {
		if len(g.Paths) == 0 {
			return fmt.Errorf("weightsManifest group %d lists no shard paths", gi)
		}
		for _, p := range g.Paths {
			if p == "" || strings.Contains(p, "..") || filepath.IsAbs(p) {
				return fmt.Errorf("weightsManifest group %d: bad shard path %q", gi, p)
			}
		}
		for _, w := range g.Weights {
			if w.Name == "" {
				return fmt.Errorf("weightsManifest group %d: weight without a name", gi)
			}
			if seen[w.Name] {
				return fmt.Errorf("weight %q listed twice", w.Name)
			}
			seen[w.Name] = true
			if _, err := w.byteSize(); err != nil {
				return err
			}
		}
	}
	return nil
}

// numel is the element count of the weight's shape.
func (w WeightSpec) numel() (int, error) {
	n := 1
	for _, d := range w.Shape {
		if d < 0 {
			return 0, fmt.Errorf("weight %q: negative dimension in shape %v", w.Name, w.Shape)
		}
		if d > 0 && n > maxElements/d {
			return 0, fmt.Errorf("weight %q: shape %v too large", w.Name, w.Shape)
		}
		n *= d
	}
	return n, nil
}

// byteSize checks the dtype and quantization and returns the bytes the weight occupies in its shards.
func (w WeightSpec) byteSize() (int, error) {
	n, err := w.numel()
	if err != nil {
		return 0, err
	}
	if w.DType != "float32" {
		return 0, fmt.Errorf("weight %q: unknown dtype %q (this reader decodes float32 weights)", w.Name, w.DType)
	}
	stored := w.DType
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8", "uint16":
			if q.Scale == nil || q.Min == nil {
				return 0, fmt.Errorf("weight %q: %s quantization without scale and min", w.Name, q.DType)
			}
			if math.IsNaN(*q.Scale) || math.IsInf(*q.Scale, 0) || math.IsNaN(*q.Min) || math.IsInf(*q.Min, 0) {
				return 0, fmt.Errorf("weight %q: non-finite quantization scale or min", w.Name)
			}
		case "float16":
		default:
			return 0, fmt.Errorf("weight %q: unknown quantization dtype %q (want uint8, uint16 or float16)", w.Name, q.DType)
		}
		stored = q.DType
	}
	return n * storedBytes[stored], nil
}

// GroupBytes returns the number of bytes group gi's shards must hold together.
func (m *Model) GroupBytes(gi int) int {
	total := 0
	for _, w := range m.Manifest[gi].Weights {
		n, _ := w.byteSize() // validated by ParseModel
		total += n
	}
	return total
}

// DecodeShard returns the bytes of a shard file: the file itself, or, for a JavaScript module (name ending in
// ".js", as nsfwjs ships them), the base64 string it exports, decoded.
func DecodeShard(name string, content []byte) ([]byte, error) {
	if !strings.HasSuffix(name, ".js") {
		return content, nil
	}
	v, err := exportedLiteral(content)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", name, err)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("tfjs: %s: the module exports a %T, want a base64 string", name, v)
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: bad base64 weight data: %s", name, oneLine(err))
	}
	return data, nil
}

// Shard is the content of one weight file of a group, with the name used in error messages.
type Shard struct {
	Name string
	Data []byte
}

// DecodeGroup decodes the weights of group gi from its shards (in the manifest's order), checking that they hold
// exactly the bytes the manifest describes.
func (m *Model) DecodeGroup(gi int, shards []Shard) ([]Tensor, error) {
	if gi < 0 || gi >= len(m.Manifest) {
		return nil, fmt.Errorf("tfjs: %s: no weight group %d", m.File, gi)
	}
	g := m.Manifest[gi]
	if len(shards) != len(g.Paths) {
		return nil, fmt.Errorf("tfjs: %s: group %d lists %d shards, got %d", m.File, gi, len(g.Paths), len(shards))
	}
	total := 0
	for _, s := range shards {
		total += len(s.Data)
	}
	need := m.GroupBytes(gi)
	if total < need {
		// The converter cuts a group into equal shards but a shorter last one: a short one before it is the culprit.
		short := shards[len(shards)-1].Name
		full := 0
		for _, s := range shards {
			full = max(full, len(s.Data))
		}
		for _, s := range shards[:len(shards)-1] {
			if len(s.Data) < full {
				short = s.Name
				break
			}
		}
		return nil, fmt.Errorf("tfjs: %s: truncated: the shards of group %d hold %d bytes, the manifest in %s needs %d",
			short, gi, total, m.File, need)
	}
	if total > need {
		return nil, fmt.Errorf("tfjs: %s: size mismatch: the shards of group %d hold %d bytes, the manifest in %s describes %d",
			shards[len(shards)-1].Name, gi, total, m.File, need)
	}
	data := make([]byte, 0, total)
	for _, s := range shards {
		data = append(data, s.Data...)
	}
	out := make([]Tensor, 0, len(g.Weights))
	off := 0
	for _, w := range g.Weights {
		size, _ := w.byteSize()
		out = append(out, decodeWeight(w, data[off:off+size]))
		off += size
	}
	return out, nil
}

// decodeWeight dequantizes one weight's bytes (already sized by byteSize) to float32.
func decodeWeight(w WeightSpec, b []byte) Tensor {
	n, _ := w.numel()
	vals := make([]float32, n)
	q := w.Quantization
	switch {
	case q == nil:
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case q.DType == "uint8":
		for i := range vals {
			vals[i] = float32(float64(b[i])**q.Scale + *q.Min)
		}
	case q.DType == "uint16":
		for i := range vals {
			vals[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))**q.Scale + *q.Min)
		}
	case q.DType == "float16":
		for i := range vals {
			vals[i] = float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return Tensor{Name: w.Name, Shape: append([]int(nil), w.Shape...), Values: vals}
}

// float16ToFloat32 widens an IEEE 754 binary16 value (subnormals, infinities and NaN included).
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac·2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// shardSuffixes are tried, in order, after a manifest path when looking for its file: TF.js's own converter writes
// the exact path; nsfwjs ships "<path>.min.js".
var shardSuffixes = []string{"", ".min.js", ".js", ".bin"}

// ShardFile returns the file holding the manifest path p next to the model file in dir, or an error naming the
// expected file.
func ShardFile(dir, p string) (string, error) {
	for _, suf := range shardSuffixes {
		f := filepath.Join(dir, p+suf)
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			return f, nil
		}
	}
	return "", fmt.Errorf("tfjs: %s: weight shard missing (tried %q, %q)", filepath.Join(dir, p), p+".min.js", p+".bin")
}

// Load reads a model file and all its weight shards (found next to it with [ShardFile]) and returns the model and
// its weights, dequantized, in manifest order.
func Load(modelFile string) (*Model, []Tensor, error) {
	content, err := os.ReadFile(modelFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tfjs: %s: %s", modelFile, oneLine(err))
	}
	m, err := ParseModel(modelFile, content)
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Dir(modelFile)
	var all []Tensor
	for gi, g := range m.Manifest {
		shards := make([]Shard, len(g.Paths))
		for i, p := range g.Paths {
			f, err := ShardFile(dir, p)
			if err != nil {
				return nil, nil, err
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, fmt.Errorf("tfjs: %s: %s", f, oneLine(err))
			}
			data, err := DecodeShard(f, raw)
			if err != nil {
				return nil, nil, err
			}
			shards[i] = Shard{Name: f, Data: data}
		}
		ts, err := m.DecodeGroup(gi, shards)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, ts...)
	}
	return m, all, nil
}

// oneLine flattens an error message to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
