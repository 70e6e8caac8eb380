"""Moved to ``sla_cli.training.checkpoint`` (the engine's); this name stays for the callers that
other branches edit (density/stage.py, tests/runfolder): fold them onto the new one, then delete."""

from sla_cli.training.checkpoint import list_checkpoints, load, path_for  # noqa: F401
