"""The density models of `sla density`, one module each (a subclass of sla_cli.density.base.DensityModel
named after the module), with its settings in conf/density/models/<name>.yaml. Nothing lists them:
sla_cli.density.base.registry() imports every module here."""
