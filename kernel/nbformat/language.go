package nbformat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotGo is returned (wrapped) by CheckGo for a notebook written for
// another language's kernel.
var ErrNotGo = errors.New("not a Go notebook")

// CheckGo returns an error wrapping ErrNotGo when the notebook's metadata
// declares a language other than Go (kernelspec.language or
// language_info.name), or, declaring none, names a kernelspec that is not a
// Go kernel's (its name holds neither "go" nor "gonb"). A notebook whose
// metadata says nothing of its kernel is taken as Go.
func (nb *Notebook) CheckGo() error {
	var md struct {
		Kernelspec struct {
			Name     string `json:"name"`
			Language string `json:"language"`
		} `json:"kernelspec"`
		LanguageInfo struct {
			Name string `json:"name"`
		} `json:"language_info"`
	}
	if len(nb.Metadata) == 0 || json.Unmarshal(nb.Metadata, &md) != nil {
		return nil
	}
	ks := md.Kernelspec
	for _, lang := range []string{ks.Language, md.LanguageInfo.Name} {
		if lang != "" && !strings.EqualFold(lang, "go") {
			return fmt.Errorf("%w: its kernel is %q, for %s (nbtest and the REPL run Go notebooks on GoNB)", ErrNotGo, ks.Name, lang)
		}
	}
	if ks.Language == "" && md.LanguageInfo.Name == "" && ks.Name != "" && !strings.Contains(strings.ToLower(ks.Name), "go") {
		return fmt.Errorf("%w: its kernel is %q (nbtest and the REPL run Go notebooks on GoNB)", ErrNotGo, ks.Name)
	}
	return nil
}
