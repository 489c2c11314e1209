package optim

import (
	_ "embed"
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
