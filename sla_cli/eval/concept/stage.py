"""`sla eval concept`: context-likelihood maps and the second-level autoencoder. Not built yet: fails with a clear message, never fake output."""

from sla_cli.errors import NotImplementedYet


def validate(cfg) -> None:
    """No stage-specific keys yet."""


def run(cfg, out_dir) -> None:
    raise NotImplementedYet("eval concept")
