# Moves nbtest:expect=REGEX cell tags into the cell metadata as
# "nbtest": {"expect": ["REGEX", ...]} (nbformat forbids commas in tags, and
# expectations often hold commas). Other tags and fields are left as they are;
# a cell left without tags loses its empty "tags" list.
#
#   jq --indent 1 -f cmd/nbtest/expect-to-metadata.jq NOTEBOOK > NEW && mv NEW NOTEBOOK
.cells |= map(
  if (.metadata.tags // []) | any(startswith("nbtest:expect=")) then
    ([.metadata.tags[] | select(startswith("nbtest:expect=")) | ltrimstr("nbtest:expect=")]) as $expect
    | .metadata.tags |= map(select(startswith("nbtest:expect=") | not))
    | if .metadata.tags == [] then del(.metadata.tags) else . end
    | .metadata.nbtest.expect = ((.metadata.nbtest.expect // []) + $expect)
  else . end)
