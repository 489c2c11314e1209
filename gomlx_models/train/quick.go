package train

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// Profile is how much work an experiment does: Quick shrinks data and steps to CI time, Full is what
// `make run` and the committed notebooks use, Paper is the paper's own setting (its data and schedule, for users
// with the data set and an accelerator).
type Profile string

// The profiles.
const (
	ProfileQuick Profile = "quick"
	ProfileFull  Profile = "full"
	ProfilePaper Profile = "paper"
)

// Profiles lists the valid profiles, smallest first.
var Profiles = []Profile{ProfileQuick, ProfileFull, ProfilePaper}

// ParseProfile returns the profile named s, or an error naming the valid ones.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles {
		if strings.EqualFold(strings.TrimSpace(s), string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown profile %q (want quick, full or paper)", s)
}

// EnvQuick is the environment variable that turns the quick profile on ("1" or "true").
const EnvQuick = "CONVNOTES_QUICK"

// EnvProfile is the environment variable that names the profile (quick, full or paper); it wins over EnvQuick.
const EnvProfile = "CONVNOTES_PROFILE"

var override atomic.Value // Profile set by SetProfile; empty: read the environment.

// CurrentProfile is the profile of this process: the one [SetProfile] set, else $CONVNOTES_PROFILE, else quick
// when $CONVNOTES_QUICK is on, else full. An unknown $CONVNOTES_PROFILE counts as full (the command line
// validates its own flag with [ParseProfile]).
func CurrentProfile() Profile {
	if p, ok := override.Load().(Profile); ok && p != "" {
		return p
	}
	if v := os.Getenv(EnvProfile); v != "" {
		if p, err := ParseProfile(v); err == nil {
			return p
		}
	}
	v := strings.TrimSpace(os.Getenv(EnvQuick))
	if v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes") {
		return ProfileQuick
	}
	return ProfileFull
}

// SetProfile forces the profile of this process (the --profile and --quick flags).
func SetProfile(p Profile) { override.Store(p) }

// Quick reports whether the quick profile is on.
func Quick() bool { return CurrentProfile() == ProfileQuick }

// SetQuick forces the quick profile on, or the full profile.
func SetQuick(on bool) {
	if on {
		SetProfile(ProfileQuick)
	} else {
		SetProfile(ProfileFull)
	}
}

// ByProfile holds one setting per profile; a study keeps its quick and full (and optionally paper)
// configurations side by side as one value instead of a function of a flag.
type ByProfile[T any] struct {
	Quick, Full T
	// Paper is the paper's own setting; nil means the full setting is used.
	Paper *T
}

// For returns the setting of profile p.
func (b ByProfile[T]) For(p Profile) T {
	switch p {
	case ProfileQuick:
		return b.Quick
	case ProfilePaper:
		if b.Paper != nil {
			return *b.Paper
		}
	}
	return b.Full
}

// Pick returns quick when the quick profile is on and full otherwise: experiments write `train.Pick(200, 6000)`.
func Pick[T any](quick, full T) T {
	if Quick() {
		return quick
	}
	return full
}
