//go:build noxla

package backend

import (
	"fmt"

	"github.com/gomlx/compute"
)

// XLAAvailable reports whether this binary includes XLA support.
const XLAAvailable = false

func newXLA(cfg string) (compute.Backend, error) {
	return nil, fmt.Errorf("backend %q: %w (rebuild without -tags noxla, with cgo enabled)", cfg, ErrNoXLA)
}
