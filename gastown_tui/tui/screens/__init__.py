"""Full screens: beads, merge queue, escalations, agent detail, peek, help."""
