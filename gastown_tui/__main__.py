import sys

from gastown_tui.cli.gt import main

sys.exit(main())
