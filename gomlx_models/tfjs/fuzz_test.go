package tfjs

import (
	"encoding/base64"
	"testing"
)

// FuzzModelAndShards feeds arbitrary model files and shard bytes to the parser and decoder: no panic, and a
// successful decode returns tensors whose sizes match their shapes and together account for every shard byte.
func FuzzModelAndShards(f *testing.F) {
	shards := tinyShards()
	f.Add([]byte(tinyModel), shards[0], shards[1], false)
	f.Add([]byte(jsModule(tinyModel)), shards[0], shards[1], false)
	f.Add([]byte(tinyModel), []byte(jsModule(`"`+base64.StdEncoding.EncodeToString(shards[0])+`"`)),
		[]byte(jsModule(`"`+base64.StdEncoding.EncodeToString(shards[1])+`"`)), true)
	f.Add([]byte(`{"modelTopology":{},"weightsManifest":[{"paths":["a"],"weights":[{"name":"w","shape":[2],"dtype":"float32","quantization":{"dtype":"float16"}}]}]}`),
		[]byte{0, 0x3c, 0, 0xc0}, []byte{}, false)
	f.Add([]byte(`x.exports={modelTopology:{a:[!0,!1,.5]},weightsManifest:[]}`), []byte{}, []byte{}, false)
	f.Fuzz(func(t *testing.T, model, shard1, shard2 []byte, js bool) {
		m, err := ParseModel("model", model)
		if err != nil {
			return
		}
		names := []string{"s1", "s2"}
		if js {
			names = []string{"s1.min.js", "s2.min.js"}
		}
		raw := [][]byte{shard1, shard2}
		for gi, g := range m.Manifest {
			shards := make([]Shard, len(g.Paths))
			total := 0
			for i := range shards {
				data, err := DecodeShard(names[i%2], raw[i%2])
				if err != nil {
					return
				}
				shards[i] = Shard{Name: names[i%2], Data: data}
				total += len(data)
			}
			ts, err := m.DecodeGroup(gi, shards)
			if err != nil {
				continue
			}
			if total != m.GroupBytes(gi) || len(ts) != len(g.Weights) {
				t.Fatalf("decoded %d tensors from %d bytes; manifest: %d weights, %d bytes", len(ts), total, len(g.Weights), m.GroupBytes(gi))
			}
			for _, x := range ts {
				n := 1
				for _, d := range x.Shape {
					n *= d
				}
				if n != len(x.Values) {
					t.Fatalf("%s: %d values for shape %v", x.Name, len(x.Values), x.Shape)
				}
			}
		}
	})
}
