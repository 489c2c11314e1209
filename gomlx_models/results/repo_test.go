package results

import "testing"

// TestCommittedResultsAgree guards the numbers this checkout publishes: it fails when the README's generated
// results tables differ from results/, when a committed notebook's saved closing table differs from its collected
// snapshot, or when a notebook's row of an experiment differs from that experiment's row of `make run` in the same
// profile (see Check). `convnotes report --readme` regenerates the README; `make notebooks` re-collects the
// notebooks.
func TestCommittedResultsAgree(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Check(root) {
		t.Error(e)
	}
}
