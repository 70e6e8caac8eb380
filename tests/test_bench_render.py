"""bench/render.py times every method the same number of times, in interleaved rounds."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "bench_render", Path(__file__).resolve().parents[1] / "bench" / "render.py"
)
bench_render = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_render)


def test_every_method_gets_the_same_repeats_interleaved():
    calls = []
    methods = {name: (lambda name=name: calls.append(name)) for name in ("pil", "sparse", "grid")}
    best = bench_render.best_times(methods, repeats=4)
    assert set(best) == set(methods) and all(t >= 0 for t in best.values())
    warmup, timed = calls[:3], calls[3:]
    assert warmup == ["pil", "sparse", "grid"]
    assert timed == ["pil", "sparse", "grid"] * 4  # same count for each, round by round
