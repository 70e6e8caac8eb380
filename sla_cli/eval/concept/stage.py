"""`sla eval concept model_dir=DIR run.out=DIR`: abstract concepts from a second level (paper section 11).

Steps: split the dataset's rotating cubes into fit / select / test (``splits``); score every cube in
every context (``maps``: the masked reconstruction term of eq. (4) at a fixed sigma, as a ratio to a
blank face); choose the map's blank rule and temperature and the back-projection's peak fraction on
the select cubes (``selection``); the angle readers, ours and the controls, on the fit cubes
(``controls``); every number on the test cubes: the maps' measures, texture invariance on cubes of
other digits and glyphs (``invariance``), back-projection against the true render (``evaluate``).
Writes concept.json, likelihood_maps.png (figure 12, the maps; the file keeps its name for the
report), concept_sweep.png (figure 14), backprojection.png (figures 15, 16), texture_invariance.png,
concept_model.pt, config.yaml and, last, manifest.json.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from sla_cli import runfolder
from sla_cli.errors import ConfigError
from sla_cli.eval.concept import (
    backproject,
    controls,
    evaluate,
    figures,
    inputs,
    invariance,
    maps,
    projection,
    selection,
    splits,
    textures,
)
from sla_cli.eval.concept.config import validate  # noqa: F401  (the CLI calls stage.validate)
from sla_cli.eval.concept.tables import print_table
from sla_cli.eval.model_dir import load_model_dir
from sla_cli.runtime import progress, resolve_device, seed_everything

KIND = "concept"
PAPER = {
    "figure_12": "Maps are almost identical despite the different textures on cube edges.",
    "figure_14": "After training this component could be varied from 0 to 1 and decode the likelihood contexts vector",
    "figures_15_16": "we can generate (imagine) a new cube that was not presented in training data "
    "with a V sign on edges",
    "section_12": "Ability of forming new concepts is shown on a sample where a 3D cube concept was received in "
    "two-level processing scheme.",
}


def run(cfg: DictConfig, out_dir: Path) -> None:
    started = time.perf_counter()
    device = resolve_device(cfg.run.device)
    c, seed = cfg.concept, int(cfg.seed)
    # every input is read and checked before the run folder is touched
    trained = load_model_dir(cfg.model_dir, device)
    trained.require_variant(
        ("set",),
        "model_dir",
        "eval concept reads the likelihood of a set's per-context decoders (train a train.variant=set model)",
    )
    cubes = inputs.load_cubes(trained.dataset_dir, trained.dataset_manifest)
    split = splits.three_way(len(cubes.angles), float(c.select_fraction), float(c.test_fraction), seed)
    back_textures = inputs.new_textures(cfg.run.data_root, int(c.texture_digit), c.glyph)
    source = c.source_context
    source = inputs.default_source(cubes.faces, cubes.yaws) if source is None else int(source)
    if source >= trained.n_contexts:
        raise ConfigError(f"concept.source_context={source} must be below the model's {trained.n_contexts} contexts")
    texture_angles = cubes.angles[split.test[: int(c.texture_cubes)]]
    trained_name = textures.digit_name(cubes.digit)
    face_textures = textures.face_textures(
        cfg.run.data_root, sorted({*c.texture_digits, cubes.digit}), list(c.texture_glyphs), len(texture_angles), seed
    )

    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        seed_everything(seed)
        with progress() as bar:
            result, saved, figs = _evaluate(
                trained, cubes, split, back_textures, source, face_textures, texture_angles, trained_name, cfg, bar
            )
        result["paper"] = PAPER
        run.save_json("concept.json", result)
        run.save_torch("concept_model.pt", saved)
        for name, fig in figs.items():
            run.save_figure(name, fig)
        seconds = time.perf_counter() - started
        run.describe(
            n_contexts=trained.n_contexts,
            device=str(device),
            cubes=split.counts(),
            peak_rule=backproject.PEAK_RULE,
            source_context=source,
            textures=list(back_textures),
            seconds=round(seconds, 1),
        )
    print_table(result, out_dir, seconds, device)


def _evaluate(trained, cubes, split, back_textures, source, face_textures, texture_angles, trained_name, cfg, bar):
    c, seed = cfg.concept, int(cfg.seed)
    scorer = evaluate.Scorer(trained, cfg, bar)
    scores = scorer(cubes.images, f"maps: cubes of {trained_name}")
    compare = scorer(cubes.compare[split.test], f"maps: test cubes of digit {cubes.compare_digit}")
    choice = selection.choose_map(
        scores,
        maps.face_groups(cubes.faces),
        cubes.angles,
        split,
        list(c.candidates.blank_rules),
        list(c.candidates.temperatures),
        evaluate.second_level_trainer(cfg, bar, "second level (a candidate map)"),
    )
    union = controls.mask_union(trained.masks)

    def inputs_of(idx: np.ndarray) -> controls.Inputs:
        return controls.Inputs(choice.maps[idx], controls.pixel_vectors(cubes.images[idx], union))

    readers = controls.fit_readers(
        inputs_of(split.fit),
        cubes.angles[split.fit],
        choice.ae,
        lambda x: evaluate.second_level_trainer(cfg, bar, "pixel autoencoder")(x)[0],
    )
    ours = readers["maps_second_level"]
    test_x, test_angles = inputs_of(split.test), cubes.angles[split.test]
    on_test = {k: controls.score(r, test_x, test_angles, seed) for k, r in readers.items()}
    for r in on_test.values():
        del r["abs_errors"]
    compare_maps = evaluate.normalised(compare, cubes.faces, choice.blank_rule, choice.temperature)
    numbers = evaluate.map_measures(
        scores.raw(choice.blank_rule)[split.test],
        compare.raw(choice.blank_rule),
        choice.maps[split.test],
        compare_maps,
        test_angles,
        cubes.contexts[split.test],
        cubes.faces,
        float(c.far_apart_deg),
        seed,
    )
    fraction, fraction_rows = selection.choose_peak_fraction(
        trained,
        choice.ae,
        choice.maps[split.select],
        cubes.angles[split.select],
        cubes,
        list(c.candidates.peak_fractions),
    )
    codes = projection.codes_of(trained, back_textures, source)
    n_tex = len(texture_angles)
    rows, summary, thumbs = invariance.evaluate_textures(
        trained,
        scorer,
        readers,
        choice,
        scores.raw(choice.blank_rule)[split.test[:n_tex]].float().cpu().numpy(),
        texture_angles,
        cubes.contexts[split.test[:n_tex]],
        cubes.faces,
        face_textures,
        trained_name,
        seed,
    )
    result = {
        "spearman_latent_angle": on_test["maps_second_level"]["spearman_latent_angle"]["value"],
        "angle_mae_deg": on_test["maps_second_level"]["angle_mae_deg"]["mean"],
        "ci95": {
            "spearman_latent_angle": on_test["maps_second_level"]["spearman_latent_angle"]["ci95"],
            "angle_mae_deg": on_test["maps_second_level"]["angle_mae_deg"]["ci95"],
        },
        **numbers,
        "readers": {"what": controls.READERS, "on_test_cubes": on_test},
        "textures": {"cubes_per_texture": n_tex, "rows": rows, "summary": summary},
        "backprojection": evaluate.backprojection(
            trained,
            choice.ae,
            choice.maps[split.test],
            codes,
            back_textures,
            cubes,
            split,
            fraction,
            int(c.texture_cubes),
            seed,
        ),
        "map": {
            "name": maps.NAME[choice.blank_rule],
            "definition": maps.definition(c.terms, scorer.sigma),
            "terms": c.terms,
            "blank_rule": choice.blank_rule,
        },
        "normalisation": {
            "rule": maps.RULE,
            "blank_rule": choice.blank_rule,
            "terms": c.terms,
            "temperature": choice.temperature,
            "chosen_on": "select cubes",
            "why": maps.WHY,
        },
        "splits": {
            "fractions": {"select": float(c.select_fraction), "test": float(c.test_fraction)},
            "counts": split.counts(),
            "seed": seed,
        },
        "selection": {
            "map": {
                "criterion": selection.MAP_CRITERION,
                "candidates": choice.candidates,
                "chosen": {"blank_rule": choice.blank_rule, "temperature": choice.temperature},
            },
            "peak_fraction": {"criterion": selection.PEAK_CRITERION, "candidates": fraction_rows, "chosen": fraction},
        },
    }
    figs = figures.draw_maps_and_sweep(trained, choice, compare_maps, cubes, ours, split.test, int(c.figure_columns))
    figs["backprojection.png"] = figures.draw_backprojection(
        trained, choice, codes, back_textures, cubes, ours, split.test, int(c.figure_columns), fraction
    )
    figs["texture_invariance.png"] = figures.texture_invariance(rows, thumbs, trained_name, invariance.TARGET_RATIO)
    saved = {
        "state_dict": {k: v.cpu() for k, v in choice.ae.state_dict().items()},
        "config": choice.ae.config(),
        "monotone_fit": ours.fit.state(),
        "second_level_losses": choice.losses,
        **{f"{k}_cubes": torch.from_numpy(v) for k, v in vars(split).items()},
    }
    return result, saved, figs
