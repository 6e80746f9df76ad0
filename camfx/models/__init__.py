"""Finding, fetching and running models: the registry, the TFLite runtime, models built from
published ones, the segmenters and style transfer."""
