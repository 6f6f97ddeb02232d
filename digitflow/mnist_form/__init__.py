"""MNIST's form of a digit: its pen width, its 20x20 box and its centre of mass in 28x28,
and the ink masks they measure. Reading's last steps, and what train normalises the pieces
of its whole-digit score with; imports the shared plumbing only, so train depends on these
few modules rather than on all of reading."""
