"""The numpy network: layers and gradients, update rules, augmentation, the training loop
and the weights file. Imports the shared plumbing only."""
