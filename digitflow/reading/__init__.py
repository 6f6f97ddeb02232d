"""Turning any picture into the 28x28 the network reads: decoding, the paper model, ink
groups, digit normalisation. Imports the shared plumbing only."""
