"""The one rich console (stderr) every stage prints through; torch-free, so readers of run folders
(`sla verify`) can use it without loading torch."""

from rich.console import Console

console = Console(stderr=True)
