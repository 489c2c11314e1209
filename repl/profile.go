package repl

import (
	"os"
	"strconv"
)

// QuickFromEnv reports whether CONVNOTES_QUICK asks for the quick profile ("1", "true", …), as the notebooks
// and `make test` read it; unset or unparsable means the full profile.
func QuickFromEnv() bool {
	q, err := strconv.ParseBool(os.Getenv("CONVNOTES_QUICK"))
	return err == nil && q
}

// ProfileEnv returns the kernel environment that selects the profile: CONVNOTES_QUICK=1 or CONVNOTES_QUICK=0.
func ProfileEnv(quick bool) []string {
	if quick {
		return []string{"CONVNOTES_QUICK=1"}
	}
	return []string{"CONVNOTES_QUICK=0"}
}
