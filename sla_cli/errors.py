"""Errors a user can cause. The CLI prints them as one line and exits non-zero, no traceback."""

from data_gen.errors import InputDataError


class SlaError(Exception):
    """A problem with the user's input or data, reported as one line."""

    exit_code = 1


class ConfigError(SlaError):
    """A bad config value or override; names the key."""

    exit_code = 2


class DataError(SlaError, InputDataError):
    """Missing, truncated or corrupt input files, or a run folder from elsewhere."""

    exit_code = 1


class NotImplementedYet(SlaError):
    """A pipeline stage that is planned but not built: fail clearly, never fake output."""

    exit_code = 3

    def __init__(self, stage: str):
        super().__init__(f"`sla {stage}` is not implemented yet (see the open issues)")


# What the CLI reports as one line: our own errors and data_gen's (which knows nothing of sla_cli).
USER_ERRORS = (SlaError, InputDataError)
