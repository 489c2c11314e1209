package tfjs

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyModel is a model.json with two weights in one group of two shards: a [2,2] uint8-quantized kernel
// (scale 0.5, min -1) and a [3] float32 bias: 4 + 12 = 16 bytes, cut 8 + 8.
const tinyModel = `{"modelTopology": {"keras_version": "2.2.4", "model_config": {"class_name": "Model",
 "config": {"name": "m", "layers": [{"name": "dense_1", "class_name": "Dense", "config": {"units": 2},
 "inbound_nodes": [[["input_1", 0, 0, {}]]]}]}}},
 "weightsManifest": [{"paths": ["group1-shard1of2", "group1-shard2of2"], "weights": [
  {"name": "dense_1/kernel", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
  {"name": "dense_1/bias", "shape": [3], "dtype": "float32"}]}]}`

// tinyShards returns the two shards of tinyModel: codes 0, 1, 2, 255 then 1.5, -2, 3e-8.
func tinyShards() [][]byte {
	data := []byte{0, 1, 2, 255}
	for _, v := range []float32{1.5, -2, 3e-8} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	return [][]byte{data[:8], data[8:]}
}

// jsModule wraps a literal the way nsfwjs's browserify bundles do.
func jsModule(literal string) string {
	return `!function(a){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=a();else{(this).model=a()}}` +
		`(function(){return function a(n,i,e){return 1}({1:[function(a,n,i){n.exports=` + literal + `},{}]},{},[1])(1)});`
}

// writeTiny writes tinyModel (as model.json, or as model.min.js with .min.js shards when js) into a new directory.
func writeTiny(t *testing.T, js bool, edit func(model string, shards [][]byte) (string, [][]byte)) string {
	t.Helper()
	dir := t.TempDir()
	model, shards := tinyModel, tinyShards()
	if edit != nil {
		model, shards = edit(model, shards)
	}
	modelFile, suffix := filepath.Join(dir, "model.json"), ".bin"
	if js {
		modelFile, suffix = filepath.Join(dir, "model.min.js"), ".min.js"
		model = jsModule(model)
	}
	if err := os.WriteFile(modelFile, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, s := range shards {
		if s == nil {
			continue
		}
		content := s
		if js {
			content = []byte(jsModule(`"` + base64.StdEncoding.EncodeToString(s) + `"`))
		}
		name := filepath.Join(dir, []string{"group1-shard1of2", "group1-shard2of2"}[i]+suffix)
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return modelFile
}

// TestLoadTiny decodes the tiny model in both packagings: q·scale + min for the uint8 kernel, float32 bias as is.
func TestLoadTiny(t *testing.T) {
	for _, js := range []bool{false, true} {
		m, ts, err := Load(writeTiny(t, js, nil))
		if err != nil {
			t.Fatalf("js=%v: %v", js, err)
		}
		if len(ts) != 2 || len(m.Layers()) != 1 || m.Layers()[0].Inputs()[0] != "input_1" {
			t.Fatalf("js=%v: got %d tensors, layers %+v", js, len(ts), m.Layers())
		}
		want := [][]float32{{-1, -0.5, 0, 126.5}, {1.5, -2, 3e-8}}
		for i, w := range want {
			for j, v := range w {
				if ts[i].Values[j] != v {
					t.Errorf("js=%v: %s[%d] = %g, want %g", js, ts[i].Name, j, ts[i].Values[j], v)
				}
			}
		}
	}
}

// TestLoadErrors: every broken input gives a one-line error naming the file at fault and saying what is wrong.
func TestLoadErrors(t *testing.T) {
	replace := func(old, new string) func(string, [][]byte) (string, [][]byte) {
		return func(m string, s [][]byte) (string, [][]byte) { return strings.Replace(m, old, new, 1), s }
	}
	cases := []struct {
		name  string
		js    bool
		edit  func(string, [][]byte) (string, [][]byte)
		file  string // base name the message must contain
		words string
	}{
		{"missing shard", false, func(m string, s [][]byte) (string, [][]byte) { return m, [][]byte{s[0], nil} },
			"group1-shard2of2", "weight shard missing"},
		{"truncated last shard", false, func(m string, s [][]byte) (string, [][]byte) { return m, [][]byte{s[0], s[1][:5]} },
			"group1-shard2of2.bin", "truncated"},
		{"truncated first shard", false, func(m string, s [][]byte) (string, [][]byte) { return m, [][]byte{s[0][:3], s[1]} },
			"group1-shard1of2.bin", "truncated"},
		{"truncated js shard", true, func(m string, s [][]byte) (string, [][]byte) { return m, [][]byte{s[0], s[1][:7]} },
			"group1-shard2of2.min.js", "truncated"},
		{"longer than manifest", false, func(m string, s [][]byte) (string, [][]byte) {
			return m, [][]byte{s[0], append(s[1], 0, 0, 0, 0)}
		}, "group1-shard2of2.bin", "size mismatch"},
		{"shape mismatch", false, replace(`"shape": [3]`, `"shape": [4]`), "group1-shard2of2.bin", "truncated"},
		{"bad json", false, replace(`"weightsManifest"`, `"weightsManifest`), "model.json", "bad model JSON"},
		{"bad js literal", true, replace(`"shape": [3]`, `"shape": [3,,]`), "model.min.js", "JavaScript literal"},
		{"unknown dtype", false, replace(`"dtype": "float32"}`, `"dtype": "float64"}`), "model.json", `unknown dtype "float64"`},
		{"unknown quantization", false, replace(`"dtype": "uint8"`, `"dtype": "int4"`), "model.json", "unknown quantization dtype"},
		{"quantization without min", false, replace(`"min": -1`, `"mean": -1`), "model.json", "without scale and min"},
		{"duplicate name", false, replace(`"dense_1/bias"`, `"dense_1/kernel"`), "model.json", "listed twice"},
		{"negative shape", false, replace(`"shape": [3]`, `"shape": [-3]`), "model.json", "negative dimension"},
		{"no manifest", false, replace(`"weightsManifest"`, `"weightsManifesto"`), "model.json", "no weightsManifest"},
		{"escaping path", false, replace(`"group1-shard1of2"`, `"../../etc/passwd"`), "model.json", "bad shard path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(writeTiny(t, tc.js, tc.edit))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.file) || !strings.Contains(msg, tc.words) {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tc.file, tc.words)
			}
		})
	}
}

// TestDecodeShardBase64 rejects a JS shard whose payload is not base64 or not a string.
func TestDecodeShardBase64(t *testing.T) {
	for _, lit := range []string{`"@@@@"`, `{a:1}`} {
		if _, err := DecodeShard("x.min.js", []byte(jsModule(lit))); err == nil || !strings.Contains(err.Error(), "x.min.js") {
			t.Errorf("DecodeShard(%s): error %v, want one naming x.min.js", lit, err)
		}
	}
}

// TestDequantize checks uint16 (q·scale + min) and float16 (IEEE binary16, subnormals and infinities) decoding.
func TestDequantize(t *testing.T) {
	scale, mn := 0.25, -3.0
	u16 := WeightSpec{Name: "u", Shape: []int{3}, DType: "float32", Quantization: &Quantization{DType: "uint16", Scale: &scale, Min: &mn}}
	got := decodeWeight(u16, []byte{0, 0, 12, 0, 0xff, 0xff}).Values
	for i, want := range []float32{-3, 0, 65535*0.25 - 3} {
		if got[i] != want {
			t.Errorf("uint16[%d] = %g, want %g", i, got[i], want)
		}
	}
	f16 := WeightSpec{Name: "h", Shape: []int{6}, DType: "float32", Quantization: &Quantization{DType: "float16"}}
	var b []byte
	for _, h := range []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555} {
		b = binary.LittleEndian.AppendUint16(b, h)
	}
	got = decodeWeight(f16, b).Values
	for i, want := range []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Inf(1)), 0.333251953125} {
		if got[i] != want {
			t.Errorf("float16[%d] = %g, want %g", i, got[i], want)
		}
	}
}

// TestLiteralParser covers the minified-literal forms nsfwjs's bundle uses.
func TestLiteralParser(t *testing.T) {
	v, err := exportedLiteral([]byte(`x.exports={a:!0,b:!1,"c":[.5,-.25,1e-3,2E+2,0x10],d:null,e:void 0,f:'it\'s\u0041'}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	c := m["c"].([]any)
	if m["a"] != true || m["b"] != false || m["d"] != nil || m["e"] != nil || m["f"] != "it'sA" ||
		c[0] != 0.5 || c[1] != -0.25 || c[2] != 1e-3 || c[3] != 200.0 || c[4] != 16.0 {
		t.Errorf("parsed %#v", v)
	}
	for _, bad := range []string{`x.exports={a:}`, `x.exports=[1,2`, `x.exports="abc`, `x.exports={a:foo}`, `nothing here`} {
		if _, err := exportedLiteral([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestNSFWJSLocator: an empty data directory says `make data`; a corrupt file is named with its digest.
func TestNSFWJSLocator(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDataDir, dir)
	_, err := NSFWJSDir()
	if !errors.Is(err, ErrNotFetched) || !strings.Contains(err.Error(), "make data") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("empty dir: %v", err)
	}
	sub := filepath.Join(dir, nsfwjsSubdir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, NSFWJSModelFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = NSFWJSDir()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), NSFWJSModelFile) || !strings.Contains(err.Error(), "make data") {
		t.Fatalf("corrupt model file: %v", err)
	}
}

// TestNSFWJS reads the real package: 318 Keras layers, 382 weights, all uint8-quantized float32, 22,360,869
// values (Inception v3 without its 1000-class top, plus nsfwjs's 256-128-5 head).
func TestNSFWJS(t *testing.T) {
	m, ts, err := LoadNSFWJS()
	if errors.Is(err, ErrNotFetched) {
		t.Skipf("nsfwjs files absent (%v)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range ts {
		n += len(x.Values)
	}
	if len(m.Layers()) != 318 || len(ts) != 382 || n != 22360869 {
		t.Errorf("%d layers, %d weights, %d values; want 318, 382, 22360869", len(m.Layers()), len(ts), n)
	}
}
