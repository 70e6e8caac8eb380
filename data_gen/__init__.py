"""Everything that makes data: MNIST loading, cube geometry, rendering, glyphs, dataset writing."""
