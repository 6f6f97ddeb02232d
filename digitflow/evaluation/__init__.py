"""Scoring a trained network: metrics and the report pictures.
Imports the dataset format and the shared plumbing only."""
