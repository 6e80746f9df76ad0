"""Evaluation and benchmark helpers for camfx's tests and scripts; not part of the app
(not in the wheel: importable from a checkout installed with ``pip install -e``)."""
