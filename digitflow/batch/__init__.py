"""Running predict-folder: the folder walk, the predictions CSV, the lock and the batch
itself. Imports reading, network and the shared plumbing."""
