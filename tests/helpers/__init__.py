"""Shared test helpers: run the CLI as a user would (cli), run a stage in-process (stages),
find MNIST (data). pytest puts tests/ on sys.path, so tests import them as ``helpers.<module>``."""
