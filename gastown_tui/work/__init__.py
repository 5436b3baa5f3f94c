"""Work distribution: sling, hook, done, mail, convoys, merge queue, formulas, gates, events."""
