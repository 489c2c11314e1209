package plots

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// FiguresEnv names the environment variable holding the directory where
// [Show] saves figures outside a notebook.
const FiguresEnv = "CONVNOTES_FIGURES"

// DefaultFiguresDir is where [Show] saves figures when FiguresEnv is unset.
const DefaultFiguresDir = "figures"

// Show displays fig: inline as a PNG when running inside a GoNB notebook,
// otherwise it saves it as <dir>/<name>.png, with dir taken from
// $CONVNOTES_FIGURES (default ./figures), and prints the path on stdout.
// name is reduced to letters, digits, '-', '_' and '.', so it cannot escape
// the directory.
func Show(fig *Figure, name string) error {
	return show(fig, name, gonbui.IsNotebook, os.Stdout)
}

// show is Show with the notebook detection and output made explicit for tests.
func show(fig *Figure, name string, inNotebook bool, out io.Writer) error {
	if fig == nil {
		return fmt.Errorf("plots.Show %q: nil figure", name)
	}
	png, err := fig.PNG()
	if err != nil {
		return fmt.Errorf("plots.Show %q: %w", name, err)
	}
	if inNotebook {
		gonbui.DisplayPng(png)
		if err := gonbui.Error(); err != nil {
			return fmt.Errorf("plots.Show %q: displaying in GoNB: %w", name, err)
		}
		return nil
	}
	base := safeName(name)
	if base == "" {
		return fmt.Errorf("plots.Show: figure name %q has no usable character", name)
	}
	dir := os.Getenv(FiguresEnv)
	if dir == "" {
		dir = DefaultFiguresDir
	}
	path := filepath.Join(dir, base+".png")
	if err := writeAtomic(path, png); err != nil {
		return fmt.Errorf("plots.Show %q: %w", name, err)
	}
	if _, err := fmt.Fprintf(out, "figure saved to %s\n", path); err != nil {
		return fmt.Errorf("plots.Show %q: %w", name, err)
	}
	return nil
}

// safeName keeps the characters of name that are safe in a file name, maps
// spaces and other characters to '_', and strips a trailing ".png".
func safeName(name string) string {
	name = strings.TrimSuffix(name, ".png")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.Trim(b.String(), "._")
	return s
}
