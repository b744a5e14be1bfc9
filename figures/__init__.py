"""Figures F1–F7 of THEORY.md, one script per figure: ``python -m figures``."""
