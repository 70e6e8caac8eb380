"""`sla eval oneshot`: never-seen glyphs shown in one context, recognised in every other (section 10).

Prototypes are the glyphs' latent codes from the source context's encoder; a probe is a glyph
rendered into context c by the dataset's own renderer and encoded by encoder c; it goes to the
nearest prototype. No autoencoder ever trains on a glyph: only the shared latent space carries
them across contexts. Controls, in the same table: the oracle pixel NN (the flat glyphs before
rendering: the geometry given for free), pixel NN on the rendered frames, a model trained without
cross-training (``oneshot.ablation_model_dir``) and any trained baseline's folder
(``oneshot.baseline_model_dirs``: the shared autoencoder, the contrastive encoder: `sla train
train.variant=...`; the contrastive codes are L2-normalised, as in its loss, so its nearest prototype
is by cosine). Every accuracy carries a 95% bootstrap interval; ``oneshot.glyph_seeds`` repeats the
glyph draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.eval.model_dir import load_model_dir
from sla_cli.eval.oneshot import figures
from sla_cli.eval.oneshot.checks import validate  # noqa: F401  the CLI calls stage.validate(cfg)
from sla_cli.eval.oneshot.features import decode_everywhere, encode_frames, render_frames
from sla_cli.eval.oneshot.glyph_sets import glyph_mode, load_draws
from sla_cli.eval.oneshot.measure import FIGURE_SOURCE, ORACLE, OURS, PIXELS, Tally, oracle_space, source_contexts
from sla_cli.eval.oneshot.protocols import protocols
from sla_cli.eval.oneshot.report import LABELS, NO_CROSS, oneshot_json, print_table
from sla_cli.runtime import progress, resolve_device, seed_everything

KIND = "oneshot"


def run(cfg: DictConfig, out_dir: Path) -> None:
    # Every input is read and checked before the run folder opens: a bad one leaves nothing behind.
    device = resolve_device(cfg.run.device)
    seed_everything(cfg.seed)
    trained = load_model_dir(cfg.model_dir, device)
    trained.require_variant(
        ("set", "shared_ae"),
        "model_dir",
        "decoded.png decodes with model_dir's decoders and "
        "a contrastive model has none (pass it as oneshot.baseline_model_dirs.contrastive=DIR)",
    )
    sources = source_contexts(cfg.oneshot.source_context, trained.n_contexts)
    models = {OURS: trained, **_comparable_models(cfg.oneshot, trained, device)}
    seeds = list(cfg.oneshot.glyph_seeds) if cfg.oneshot.glyph_seeds is not None else [int(cfg.seed)]
    draws = load_draws(cfg.oneshot, seeds)
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        tally = Tally(sources, trained.n_contexts)
        with progress() as bar:
            task = bar.add_task("encoding", total=len(draws) * len(models) * trained.n_contexts, info="contexts")
            for i, glyphs in enumerate(draws):
                frames, latents = _measure_draw(
                    cfg, tally, models, glyphs, device, lambda n: bar.update(task, advance=n)
                )
                if i == 0:
                    first = (glyphs, frames, latents[OURS])
        methods = [ORACLE, PIXELS, *(m for m in models if m != OURS)]
        result = oneshot_json(tally, methods, draws, int(cfg.seed))
        result["glyphs"]["mode"] = glyph_mode(cfg.oneshot)
        _figures(
            run,
            trained,
            *first,
            sources,
            tally,
            {m: result["protocols"] if m == OURS else result["baselines"][m] for m in (OURS, PIXELS, *methods[2:])},
        )
        run.save_json("oneshot.json", result)
        run.describe(
            n_contexts=trained.n_contexts,
            device=str(device),
            source_contexts=len(sources),
            glyph_draws=len(draws),
            glyph_instances=int(sum(len(d.labels) for d in draws)),
        )
    label = "all" if len(sources) > 1 else str(int(sources[0]))
    print_table(result, out_dir, label)


def _measure_draw(cfg, tally: Tally, models: dict, glyphs, device, advance):
    """One glyph draw through every method into the tally; (frames, latents) for the figures."""
    protos = protocols(glyphs)
    frames = render_frames(models[OURS].render, glyphs.images, device)  # [C, N, D]
    latents = {name: _codes(m, frames, device, cfg.oneshot.chunk_contexts, advance) for name, m in models.items()}
    for name, z in latents.items():
        tally.add(name, z, protos)
    tally.add(PIXELS, frames, protos)  # whole frames, unmasked (black off the face)
    tally.add(ORACLE, oracle_space(glyphs.images, device), protos)
    tally.add_distances(latents[OURS], glyphs.labels)
    return frames, latents


def _codes(trained, frames, device, chunk: int, advance):
    """Each context's codes of the frames; a contrastive model's L2-normalised (it was trained on their
    cosines: its nearest prototype is the cosine one)."""
    z = encode_frames(trained.model, frames, device, chunk, advance)
    return torch.nn.functional.normalize(z, dim=-1) if trained.variant == "contrastive" else z


def _comparable_models(oneshot, trained, device: torch.device) -> dict:
    """The no-cross ablation and every trained baseline's folder, each checked to share our geometry."""
    folders = {NO_CROSS: oneshot.ablation_model_dir, **dict(oneshot.baseline_model_dirs or {})}
    return {name: _load_comparable(name, folder, trained, device) for name, folder in folders.items() if folder}


def _load_comparable(name: str, folder, trained, device: torch.device):
    other = load_model_dir(folder, device)
    same = (
        other.n_contexts == trained.n_contexts
        and tuple(other.frame) == tuple(trained.frame)
        and torch.allclose(other.masks.float().cpu(), trained.masks.float().cpu(), atol=1e-5)
    )
    if not same:
        key = "oneshot.ablation_model_dir" if name == NO_CROSS else f"oneshot.baseline_model_dirs.{name}"
        raise DataError(
            f"{key}={folder}: its dataset's geometry ({other.n_contexts} contexts, "
            f"frame {tuple(other.frame)}) differs from model_dir's ({trained.n_contexts}, "
            f"{tuple(trained.frame)}, or other masks): train it on the same dataset"
        )
    return other


def _figures(run, trained, glyphs, frames, z, sources, tally: Tally, summaries: dict) -> None:
    c = trained.n_contexts
    source = int(sources[0]) if len(sources) == 1 else min(FIGURE_SOURCE, c - 1)
    row = int(protocols(glyphs)[0].proto_rows[0])  # the check sign for the built-in glyphs, as in figure 9
    h, w = trained.frame
    decoded = decode_everywhere(trained.model, z[source, row], trained.masks).cpu().numpy().reshape(c, h, w)
    rendered = frames[:, row].cpu().numpy().reshape(c, h, w)
    name = glyphs.names[int(glyphs.labels[row])]
    run.save_figure("decoded.png", figures.decoded_figure(rendered, decoded, name, source))
    label = "all" if len(sources) > 1 else str(source)
    same, different = torch.cat(tally.same).numpy(), torch.cat(tally.different).numpy()
    run.save_figure("distances.png", figures.distance_figure(same, different, label))
    run.save_figure(
        "accuracy_maps.png",
        figures.accuracy_maps_figure({LABELS.get(m, m): s for m, s in summaries.items() if s != "skipped"}),
    )
    if len(sources) > 1:
        matrices = {p: np.concatenate(d, axis=-1).mean(-1) for p, d in tally.correct[OURS].items()}
        run.save_figure("accuracy_matrix.png", figures.matrix_figure(matrices))
