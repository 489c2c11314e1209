package optim

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed testdata/torch_trajectories.json
var torchFixture []byte

// TorchFixtureJSON returns a copy of the reference trajectories of torch.optim that
// scripts/optim_fixtures.py writes to testdata/torch_trajectories.json (SGD, momentum,
// RMSprop and Adam, 100 steps on Rosenbrock and on a small linear regression, in float64 and
// float32). It is embedded so that programs outside this folder (notebook 01, `convnotes
// reproduce`) can show the comparison without Python or the source tree.
func TorchFixtureJSON() []byte { return slices.Clone(torchFixture) }

// TorchFixture is the content of the embedded torch.optim trajectories (scripts/optim_fixtures.py): the two
// problems and, for each case, the rule, dtype, hyper-parameters and the parameters after each step.
type TorchFixture struct {
	TorchVersion string `json:"torch_version"`
	Steps        int    `json:"steps"`
	Problems     struct {
		Rosenbrock struct {
			A     float64   `json:"a"`
			B     float64   `json:"b"`
			Start []float64 `json:"start"`
		} `json:"rosenbrock"`
		Linreg struct {
			X     [][]float64 `json:"x"`
			Y     []float64   `json:"y"`
			Start []float64   `json:"start"`
		} `json:"linreg"`
	} `json:"problems"`
	Cases []struct {
		Problem    string             `json:"problem"`
		Optimizer  string             `json:"optimizer"`
		DType      string             `json:"dtype"`
		HParams    map[string]float64 `json:"hparams"`
		Trajectory [][]float64        `json:"trajectory"`
	} `json:"cases"`
}

// LoadTorchFixture parses the embedded torch.optim trajectories.
func LoadTorchFixture() (*TorchFixture, error) {
	var f TorchFixture
	if err := json.Unmarshal(torchFixture, &f); err != nil {
		return nil, fmt.Errorf("torch fixture: %w", err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("torch fixture: no cases")
	}
	return &f, nil
}
