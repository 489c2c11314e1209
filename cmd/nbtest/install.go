package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/convnotes/convnotes/kernel"
)

// printInstallation tells where --install-kernel put the kernelspec, what it runs, where its kernels log and how
// to remove it.
func printInstallation(w io.Writer, inst *kernel.Installation) {
	fmt.Fprintf(w, "installed Jupyter kernel %q (%s) in %s\n", inst.Name, inst.Spec.DisplayName, inst.Dir)
	fmt.Fprintf(w, "  runs %s\n", inst.Spec.Argv[0])
	fmt.Fprintf(w, "  kernel log: %s\n", inst.LogFile)
	fmt.Fprintf(w, "  remove it with: jupyter kernelspec remove %s   (or: rm -r %s)\n", inst.Name, inst.Dir)
	fmt.Fprintf(w, "  then open %s in Jupyter and pick the kernel %q\n", filepath.Join("notebooks", "*.ipynb"), inst.Spec.DisplayName)
}
