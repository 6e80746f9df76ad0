"""The frames' path: the pipeline's threads and the per-frame effect work."""
