"""The cockpit (`gt tui`), built with Textual."""
