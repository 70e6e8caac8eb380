"""sla's Hydra launchers (conf/hydra/launcher/slurm.yaml and local.yaml). Hydra accepts launcher
classes only from the hydra_plugins namespace package, and imports every module in it at start-up:
keep them light."""
