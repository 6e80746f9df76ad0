"""Devices and files: cameras and video files in, the recorder, the window, the virtual
camera."""
