"""digitflow: learn handwritten digits with a numpy network, in a DVC pipeline."""

from importlib.metadata import version

__version__ = version("digitflow")
