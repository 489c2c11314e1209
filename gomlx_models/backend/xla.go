//go:build !noxla

package backend

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// XLAAvailable reports whether this binary includes XLA support.
const XLAAvailable = true

// newXLA checks that a plugin for the platform is installed before GoMLX tries (and, offline, hangs or fails
// slowly) to download one.
func newXLA(cfg string) (compute.Backend, error) {
	_, platform, _ := strings.Cut(cfg, ":")
	platform, _, _ = strings.Cut(platform, ",")
	if platform == "" {
		platform = "cpu"
	}
	allow := autoInstallAllowed()
	xla.EnableAutoInstall(allow)
	if !allow {
		plugins := pjrt.AvailablePlugins()
		if _, ok := plugins[platform]; !ok && !strings.HasPrefix(platform, "/") {
			found := make([]string, 0, len(plugins))
			for name := range plugins {
				found = append(found, name)
			}
			return nil, fmt.Errorf("backend %q: %w for %q installed (found: %v); %s",
				cfg, ErrNoPlugin, platform, found, pluginRemedy(platform))
		}
	}
	return compute.NewWithConfig(cfg)
}
