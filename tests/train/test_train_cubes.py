"""`sla train preset=smoke` on the real `sla generate-cubes preset=smoke` dataset (100 contexts)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_on_generated_cubes_beats_the_floor(smoke_model):
    m = json.loads((smoke_model / "metrics.json").read_text())
    assert m["test_self_mse"] < 0.85 * m["mean_image_mse"], m
    assert m["test_cross_mse"] < 0.9 * m["mean_image_mse"], m
    assert m["latent_distance_same_digit"] < m["latent_distance_different_digit"], m
