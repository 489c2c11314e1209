package train

import (
	"os"
	"strings"
	"sync/atomic"
)

// EnvQuick is the environment variable that turns the quick profile on ("1" or "true").
const EnvQuick = "CONVNOTES_QUICK"

var quickOverride atomic.Int32 // 0: read the environment; 1: on; 2: off.

// Quick reports whether the quick profile is on: experiments shrink data and steps so that each runs in CI time.
// [SetQuick] overrides the environment.
func Quick() bool {
	switch quickOverride.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	v := strings.TrimSpace(os.Getenv(EnvQuick))
	return v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
}

// SetQuick forces the quick profile on or off for this process (the --quick flag).
func SetQuick(on bool) {
	if on {
		quickOverride.Store(1)
	} else {
		quickOverride.Store(2)
	}
}

// Pick returns quick when the quick profile is on and full otherwise: experiments write `train.Pick(200, 6000)`.
func Pick[T any](quick, full T) T {
	if Quick() {
		return quick
	}
	return full
}
