import sys

from camfx.cli import main

sys.exit(main())
