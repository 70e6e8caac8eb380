"""`sla pipeline` and the stage registry it reads (``registry``: torch- and Hydra-free)."""
