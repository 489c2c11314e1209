package plots

import (
	"fmt"
	"path/filepath"
	"strings"
)

// SafeName keeps the characters of name that are safe in a file name, maps spaces and other characters to '_',
// and strips a trailing ".png", so a figure name cannot escape its folder.
func SafeName(name string) string {
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
	return strings.Trim(b.String(), "._")
}

// SaveIn writes the figure as dir/<SafeName(name)>.png (atomically) and returns the path.
func (f *Figure) SaveIn(dir, name string) (string, error) {
	base := SafeName(name)
	if base == "" {
		return "", fmt.Errorf("figure name %q has no usable character", name)
	}
	path := filepath.Join(dir, base+".png")
	if err := f.Save(path); err != nil {
		return "", err
	}
	return path, nil
}
