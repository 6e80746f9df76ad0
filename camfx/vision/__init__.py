"""Picture maths with no models and no devices: shrinking, the mask's refinement,
compositing, the steady painting and how still it stays."""
