"""Generators of synthetic pictures for tests, examples and benches; the pipeline never
imports them. Imports the shared plumbing only."""
