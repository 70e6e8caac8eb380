"""The paper's numbers (Morzhakov 2018), in one place: every module that sets ours beside them imports
them from here.

- Table 1, MNIST test accuracy: "Autoencoders' accuracy: 98.6% Classification NN: 98.4%".
- Section 10, latent distances in the paper's own latent units: the same glyph in two contexts
  |E10(V) - E99(V')| = 0.98, two glyphs in one context |E10(V) - E10(+)| = 6.21. Only their ratio
  compares across models.
- Section 10, figure 8: the two patterns told apart in all 100 contexts.
"""

TABLE1_ACCURACY = {"ae_set": 0.986, "mlp": 0.984}
SAME_GLYPH_DISTANCE = 0.98
DIFFERENT_GLYPH_DISTANCE = 6.21
DISTANCE_RATIO = round(DIFFERENT_GLYPH_DISTANCE / SAME_GLYPH_DISTANCE, 2)
CONTEXTS = 100
