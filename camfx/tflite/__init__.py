"""TensorFlow Lite files edited by camfx: the flatbuffer graph editor (:mod:`.graph`), the
style-transfer rewrites for any size (:mod:`.transfer`, one module per rewrite family), the
DeepLab cut (:mod:`.deeplab_cut`), model metadata (:mod:`.metadata`), a plain runner for
measuring them (:mod:`.runner`). Nothing here imports the rest of camfx."""
