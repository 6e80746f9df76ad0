"""TensorFlow Lite files edited by camfx: the flatbuffer graph editor (:mod:`.graph`), the
style-transfer rewrites for any size (:mod:`.transfer`), a plain runner for measuring them
(:mod:`.runner`)."""
