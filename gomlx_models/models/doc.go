// Package models holds the networks of the papers convnotes reproduces, one file per model family, each readable
// beside its paper: families are a configuration table plus one builder (MLPs, the CIFAR ResNets, …). Model
// functions take a *model.Scope and the input node and return logits; they hold no data loading, plotting or CLI.
package models
