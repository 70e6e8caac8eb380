"""`sla generate-cubes`: the dataset stage (the rendering itself lives in data_gen)."""
