"""The TensorFlow -> TensorFlow Lite workflow that produced the models camfx runs.

Needs TensorFlow (``pip install 'camfx[convert]'``); nothing in the camfx app imports
this package. The steps, one module each:

- :mod:`camfx.convert.sources`: a SavedModel, a Keras model, a frozen GraphDef or a TF1
  checkpoint cut at named tensors, as one concrete function with fixed input shapes;
- :mod:`camfx.convert.quantize`: the converter for ``none | dynamic | float16 | int8``,
  and representative datasets (image folders, videos, content frames paired with style
  bottlenecks) for int8;
- :mod:`camfx.convert.validate`: the TensorFlow model and its TFLite conversion on the
  same inputs, with max/mean error, PSNR (images) or IoU (segmentation), failing loudly;
- :mod:`camfx.tflite.metadata` (in the app, since camfx reads it): TFLite metadata;
- :mod:`camfx.convert.magenta`: the Magenta transfer network rebuilt in Keras from the
  weights of the published .tflite, the real network the workflow is proven on (a
  package: the network as data, its reader, the Keras layers and model, the checks).

``scripts/convert.py`` and ``scripts/benchmark_models.py`` are the command lines.
"""
