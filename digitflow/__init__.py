"""digitflow: learn handwritten digits with a numpy network, in a DVC pipeline."""
