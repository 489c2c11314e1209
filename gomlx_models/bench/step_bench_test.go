package bench

import (
	"fmt"
	"testing"

	cnbackend "github.com/convnotes/convnotes/gomlx_models/backend"
	"github.com/convnotes/convnotes/gomlx_models/layers"
)

// BenchmarkStep times one step of each benchmark model and mode at the batch of `make bench`, with the project
// layers, so that a step can be profiled in isolation:
//
//	go test -run '^$' -bench 'Step/resnet20/train' -benchtime 5x -cpuprofile cpu.out ./gomlx_models/bench/
//	go tool pprof -top cpu.out
//
// The first (compiling) step runs before the timer starts.
func BenchmarkStep(b *testing.B) {
	backend, err := cnbackend.New("go")
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	for _, modelName := range []string{SmallCNN, ResNet20} {
		for _, mode := range []string{Train, Infer} {
			batch := cfg.BatchFor(modelName)
			b.Run(fmt.Sprintf("%s/%s/%d", modelName, mode, batch), func(b *testing.B) {
				s, err := newGoStepper(backend, modelName, mode, batch, layers.Fast)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.step(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if err := s.step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}
