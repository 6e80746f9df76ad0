"""camfx: real-time camera effects — segment the person, paint the background in a style."""

__version__ = "0.1.0"
