"""The one error data_gen raises for bad input data; the CLI reports it as one line."""


class InputDataError(Exception):
    """A missing, truncated or corrupt input file (e.g. an MNIST IDX file)."""

    exit_code = 1
