"""`sla eval oneshot`: never-seen glyphs shown in one context, recognised in every other (section 10).

Prototypes are the glyphs' latent codes from the source context's encoder; a probe is a glyph
rendered into context c by the dataset's own renderer and encoded by encoder c; it goes to the
nearest prototype. No autoencoder ever trains on a glyph: only the shared latent space carries
them across contexts. Baselines: nearest prototype in pixel space, and a model trained without
cross-training (``oneshot.ablation_model_dir``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from sla_cli import runfolder
from sla_cli.config_checks import check_int, value
from sla_cli.errors import ConfigError, DataError
from sla_cli.eval.model_dir import load_model_dir
from sla_cli.eval.oneshot import figures
from sla_cli.eval.oneshot.distances import distance_samples, distance_stats
from sla_cli.eval.oneshot.features import decode_everywhere, encode_frames, render_frames
from sla_cli.eval.oneshot.glyph_sets import load_glyphs
from sla_cli.eval.oneshot.measure import FIGURE_SOURCE, protocol_results, source_contexts
from sla_cli.eval.oneshot.protocols import protocols
from sla_cli.eval.oneshot.report import oneshot_json, print_table
from sla_cli.runtime import progress, resolve_device, seed_everything

KIND = "oneshot"


def validate(cfg: DictConfig) -> None:
    source = value(cfg, "oneshot.source_context")
    if source != "all" and (isinstance(source, bool) or not isinstance(source, int) or source < 0):
        raise ConfigError(f"oneshot.source_context={source!r} must be a context index >= 0 or all")
    check_int(cfg, "oneshot.instances", 2)
    check_int(cfg, "oneshot.chunk_contexts", 1)
    for key in ("oneshot.glyphs_dir", "oneshot.ablation_model_dir"):
        v = value(cfg, key)
        if v is not None and (not isinstance(v, str) or not v):
            raise ConfigError(f"{key}={v!r} must be a folder path or null")


def run(cfg: DictConfig, out_dir: Path) -> None:
    # Every input is read and checked before the run folder opens: a bad one leaves nothing behind.
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)
    trained = load_model_dir(cfg.model_dir, device)
    sources = source_contexts(cfg.oneshot.source_context, trained.n_contexts)
    ablation = _load_ablation(cfg.oneshot.ablation_model_dir, trained, device)
    glyphs = load_glyphs(cfg.oneshot.glyphs_dir, cfg.oneshot.instances, cfg.seed)
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        frames = render_frames(trained.render, glyphs.images, device)  # [C, N, D]
        latents = _encode(cfg, [("shared latent", trained), ("no cross-training", ablation)], frames, device)
        result = _measure(run, trained, glyphs, frames, latents, sources)
        run.save_json("oneshot.json", result)
        run.describe(n_contexts=trained.n_contexts, device=str(device), source_contexts=len(sources),
                     glyph_instances=len(glyphs.labels))
    label = "all" if len(sources) > 1 else str(int(sources[0]))
    print_table(result, out_dir, label, trained.n_contexts)


def _load_ablation(folder, trained, device: torch.device):
    if not folder:
        return None
    other = load_model_dir(folder, device)
    same = other.n_contexts == trained.n_contexts and tuple(other.frame) == tuple(trained.frame) \
        and torch.allclose(other.masks.float().cpu(), trained.masks.float().cpu(), atol=1e-5)
    if not same:
        raise DataError(f"oneshot.ablation_model_dir={folder}: its dataset's geometry ({other.n_contexts} contexts, "
                        f"frame {tuple(other.frame)}) differs from model_dir's ({trained.n_contexts}, "
                        f"{tuple(trained.frame)}, or other masks): train it on the same dataset")
    return other


def _encode(cfg, models, frames: torch.Tensor, device: torch.device) -> dict:
    """Latents [C, N, L] of every glyph in every context, per model present (progress over contexts)."""
    present = [(name, m) for name, m in models if m is not None]
    out = {}
    with progress() as bar:
        for name, m in present:
            task = bar.add_task(f"encoding ({name})", total=frames.shape[0], info="contexts")
            out[name] = encode_frames(m.model, frames, device, cfg.oneshot.chunk_contexts,
                                      lambda n, t=task: bar.update(t, advance=n))
    return out


def _measure(run, trained, glyphs, frames, latents: dict, sources: np.ndarray) -> dict:
    protos = protocols(glyphs)
    ours, matrices = protocol_results(latents["shared latent"], sources, protos)
    pixel_nn, _ = protocol_results(frames, sources, protos)  # whole frames, unmasked (black off the face)
    no_cross = protocol_results(latents["no cross-training"], sources, protos)[0] \
        if "no cross-training" in latents else None
    src = torch.as_tensor(sources, device=frames.device)
    same, different = distance_samples(latents["shared latent"], glyphs.labels, src)
    result = oneshot_json(ours, distance_stats(same, different), pixel_nn, no_cross, glyphs)
    _figures(run, trained, glyphs, frames, latents["shared latent"], protos[0], sources, same, different,
             {"shared latent": ours, "pixel NN": pixel_nn, **({"no cross-training": no_cross} if no_cross else {})})
    if len(sources) > 1:
        run.save_figure("accuracy_matrix.png", figures.matrix_figure(matrices))
    return result


def _figures(run, trained, glyphs, frames, z, paper, sources, same, different, summaries: dict) -> None:
    c = trained.n_contexts
    source = int(sources[0]) if len(sources) == 1 else min(FIGURE_SOURCE, c - 1)
    row = int(paper.proto_rows[0])  # the check sign for the built-in glyphs, as in figure 9
    h, w = trained.frame
    decoded = decode_everywhere(trained.model, z[source, row], trained.masks).cpu().numpy().reshape(c, h, w)
    rendered = frames[:, row].cpu().numpy().reshape(c, h, w)
    name = glyphs.names[int(glyphs.labels[row])]
    run.save_figure("decoded.png", figures.decoded_figure(rendered, decoded, name, source))
    label = "all" if len(sources) > 1 else str(source)
    run.save_figure("distances.png", figures.distance_figure(same.cpu().numpy(), different.cpu().numpy(), label))
    run.save_figure("accuracy_maps.png", figures.accuracy_maps_figure(summaries))
