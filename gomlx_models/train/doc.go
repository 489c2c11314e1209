// Package train is convnotes' training harness: it fits a GoMLX model on a dataset with GoMLX's own
// trainer (ml/train.Trainer) and adds what the notebooks and the reproduce command need around it:
//
//   - a metrics [History] (loss, accuracy, examples/s, wall-clock seconds per step and per epoch) ready to plot;
//   - a progress line on a terminal, or an in-place HTML progress bar inside a GoNB notebook;
//   - evaluation on named datasets every N steps;
//   - checkpoints written atomically (temporary file, fsync, rename) and resumed at the same step with the same
//     data order, so the next loss is the one the uninterrupted run would have seen;
//   - fixed seeds, and the quick profile ([Quick]: CONVNOTES_QUICK=1 or --quick) that shrinks every experiment to CI
//     size.
//
// The harness drives Trainer.TrainStep itself (rather than train.Loop) so that it controls the data position,
// timing and checkpoints.
package train
