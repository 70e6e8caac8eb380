"""`sla report RUN_ROOT`: one report.md of paper vs ours, built from the run folders' JSON alone."""
