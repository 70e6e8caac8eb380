"""`sla eval concept model_dir=DIR out=DIR`: abstract concepts from a second level (paper section 11).

Steps: the context-likelihood maps of the model dataset's rotating cubes (``maps``), a one-latent
autoencoder on the maps of the training split (``second_level``), the measures on the held-out
split (``measures``), back-projection of two new textures through it (``backproject``), figures.
Writes concept.json, likelihood_maps.png (figure 12), concept_sweep.png (figure 14),
backprojection.png (figures 15, 16), concept_model.pt, config.yaml and, last, manifest.json.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from data_gen import glyphs
from sla_cli import runfolder
from sla_cli.config_checks import check_choice, check_float, check_int, value
from sla_cli.errors import ConfigError
from sla_cli.eval.concept import backproject, evaluate, figures, inputs, maps, measures
from sla_cli.eval.model_dir import load_model_dir
from sla_cli.runtime import console, resolve_device, seed_everything

KIND = "concept"
PAPER = {
    "figure_12": "Maps are almost identical despite the different textures on cube edges.",
    "figure_14": "After training this component could be varied from 0 to 1 and decode the likelihood contexts vector",
    "figures_15_16": "we can generate (imagine) a new cube that was not presented in training data "
                     "with a V sign on edges",
    "section_12": "Ability of forming new concepts is shown on a sample where a 3D cube concept was received in "
                  "two-level processing scheme.",
}


def validate(cfg: DictConfig) -> None:
    if OmegaConf.is_missing(cfg, "model_dir") or not isinstance(value(cfg, "model_dir"), str):
        raise ConfigError("model_dir=DIR is required: an `sla train` run folder")
    check_choice(cfg, "concept.terms", maps.TERMS)
    check_int(cfg, "concept.density_digits", 2)
    check_float(cfg, "concept.temperature", 0, low_open=True)
    check_int(cfg, "concept.chunk", 1)
    check_float(cfg, "concept.test_fraction", 0, 0.9, low_open=True)
    for key in ("latent", "hidden", "steps", "batch_size", "restarts", "figure_columns"):
        check_int(cfg, f"concept.{key}", 1)
    check_float(cfg, "concept.lr", 0, low_open=True)
    check_float(cfg, "concept.peak_fraction", 0, 1)
    check_int(cfg, "concept.texture_digit", 0, 9)
    check_choice(cfg, "concept.glyph", glyphs.NAMES)
    if value(cfg, "concept.source_context") is not None:
        check_int(cfg, "concept.source_context", 0)
    check_float(cfg, "concept.far_apart_deg", 0, 90)


def run(cfg: DictConfig, out_dir: Path) -> None:
    started = time.perf_counter()
    device = resolve_device(cfg.device)
    # every input is read and checked before the run folder is touched
    trained = load_model_dir(cfg.model_dir, device)
    trained.require_variant(("set",), "model_dir", "eval concept reads the likelihood of a set's per-context "
                            "decoders (train a train.variant=set model)")
    cubes = inputs.load_cubes(trained.dataset_dir, trained.dataset_manifest)
    textures = inputs.new_textures(cfg.data.root, int(cfg.concept.texture_digit), cfg.concept.glyph)
    source = cfg.concept.source_context
    source = inputs.default_source(cubes.faces, cubes.yaws) if source is None else int(source)
    if source >= trained.n_contexts:
        raise ConfigError(f"concept.source_context={source} must be below the model's {trained.n_contexts} contexts")

    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        seed_everything(int(cfg.seed))
        train, test = measures.split_indices(len(cubes.angles), float(cfg.concept.test_fraction), int(cfg.seed))
        m = evaluate.compute_maps(trained, cubes, cfg)
        ae, losses = evaluate.train_second_level(m.digit[train], cfg)
        numbers, fit = evaluate.map_measures(ae, m, cubes, train, test, float(cfg.concept.far_apart_deg))
        codes = evaluate.codes_of(trained, textures, source)
        numbers["backprojection"] = evaluate.backprojection_error(
            trained, ae, m.digit[test], codes, textures, fit, cubes, train, float(cfg.concept.peak_fraction))
        result = {**numbers, "normalisation": {"rule": maps.RULE, "terms": cfg.concept.terms,
                                               "temperature": float(cfg.concept.temperature), "why": maps.WHY},
                  "paper": PAPER}
        run.save_json("concept.json", result)
        run.save_torch("concept_model.pt", {
            "state_dict": {k: v.cpu() for k, v in ae.state_dict().items()}, "config": ae.config(),
            "monotone_fit": fit.state(), "train_cubes": torch.from_numpy(train), "test_cubes": torch.from_numpy(test)})
        for name, fig in figures.draw_all(trained, ae, m, cubes, codes, textures, fit, test, cfg).items():
            run.save_figure(name, fig)
        seconds = time.perf_counter() - started
        run.describe(n_contexts=trained.n_contexts, device=str(device), cubes={"train": len(train), "test": len(test)},
                     second_level_losses=losses, peak_rule=backproject.PEAK_RULE, source_context=source,
                     textures=list(textures), seconds=round(seconds, 1))
    _report(result, out_dir, seconds, device)


def _report(result: dict, out_dir: Path, seconds: float, device) -> None:
    table = Table(title=f"sla eval concept -> {out_dir}")
    table.add_column("measure (held-out cubes)")
    table.add_column("value", justify="right")
    for key in ("spearman_latent_angle", "angle_mae_deg", "map_cosine_same_angle_different_digit",
                "map_cosine_different_angle"):
        table.add_row(key, f"{result[key]:.3f}")
    bp = result["backprojection"]
    table.add_row("backprojection mse (baseline)", f"{bp['mse']:.4f} ({bp['baseline_mse']:.4f})")
    console.print(table)
    console.print(f"{seconds:.1f} s on {device}")
