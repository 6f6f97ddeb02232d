"""Turning any picture into the 28x28 the network reads: decoding (``images``), then the
steps of ``recipe`` in order (colour, sheet, paper, ink groups, scan grading, then
``mnist_form``'s stroke width and MNIST's frame). Imports the shared plumbing and
``mnist_form`` only."""
