"""`python -m gastown_tui.sim`: run the sim agent in this terminal."""

import sys

from gastown_tui.sim.terminal import main

sys.exit(main())
