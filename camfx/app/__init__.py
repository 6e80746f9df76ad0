"""What the user runs: the command line, the options table and config file, the session that
wires one run, the window's controls, `camfx bench`, the styles gallery."""
