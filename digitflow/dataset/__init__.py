"""MNIST on disk: the IDX file format and the prepared (784, m) float32 arrays.
Imports the shared plumbing only."""
