"""The concept stage's figures (paper figures 12, 14, 15 and 16, and the texture-invariance test), as
matplotlib Figures for ``run.save_figure``: rows of small panels, cube images in grey, maps as
square pictures, bars with 95% intervals."""

from __future__ import annotations

import numpy as np

from sla_cli.eval.concept import controls, projection
from sla_cli.eval.concept.maps import NAME, square_maps
from sla_cli.plotting import plt


def _grid(rows: list[tuple[str, np.ndarray, str]], titles: list[str], suptitle: str):
    """rows: (label, panels [n, h, w], 'image' | 'map'); one column per title."""
    n = len(titles)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n + 0.8, 1.45 * len(rows) + 0.4), squeeze=False)
    for r, (label, panels, kind) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            if kind == "image":
                ax.imshow(panels[c], cmap="gray", vmin=0, vmax=1)
            else:
                heat = ax.imshow(np.ma.masked_invalid(panels[c]), cmap="viridis", vmin=0, vmax=np.nanmax(panels))
                if c == n - 1:  # one scale for the row's maps
                    fig.colorbar(heat, ax=axes[r, :].tolist(), shrink=0.9, pad=0.01, label="map value")
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(suptitle, fontsize=10, y=1.0 + 0.1 / len(rows))  # clear of the column titles
    return fig


def maps_figure(
    cubes: np.ndarray,
    maps: np.ndarray,
    compare: np.ndarray,
    compare_maps: np.ndarray,
    angles: np.ndarray,
    digit: int,
    compare_digit: int,
    rule: str,
):
    """Figure 12: test cubes of two digits at the same angles and their maps."""
    rows = [
        (f"cube of {digit}s", cubes, "image"),
        (f"map ({digit}s)", square_maps(maps), "map"),
        (f"cube of {compare_digit}s", compare, "image"),
        (f"map ({compare_digit}s)", square_maps(compare_maps), "map"),
    ]
    return _grid(
        rows,
        [f"{a:.0f} deg" for a in angles],
        f"maps of the {NAME[rule]} per context (figure 12): where the faces are, not what is on them",
    )


def concept_sweep(maps: np.ndarray, u: np.ndarray, angles: np.ndarray):
    """Figure 14: maps decoded by the second level along its latent."""
    rows = [("decoded map", square_maps(maps), "map")]
    return _grid(
        rows,
        [f"u={a:.2f}\n~{b:.0f} deg" for a, b in zip(u, angles, strict=True)],
        "second-level latent swept 0..1: a cube that turns (figure 14)",
    )


def backprojection(rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], angles: np.ndarray):
    """Figures 15, 16: per code, back-projected test cubes, the oracle (true contexts), the true render."""
    panels = []
    for name, projected, oracle, true in rows:
        panels += [
            (f"{name}: decoded", projected, "image"),
            (f"{name}: oracle", oracle, "image"),
            (f"{name}: true", true, "image"),
        ]
    return _grid(
        panels,
        [f"{a:.0f} deg" for a in angles],
        "back-projection of first-level codes through the second level (figures 15, 16), "
        "test cubes at their true angles",
    )


def texture_invariance(rows: list[dict], thumbs: dict[str, np.ndarray], trained_name: str, ratio: float):
    """Angle error per texture and reader (95% intervals over cubes), one cube of each texture above."""
    names = [r["texture"] for r in rows]
    fig = plt.figure(figsize=(max(8.0, 0.62 * len(names) + 1.5), 5.2))
    strip = fig.add_axes((0.07, 0.72, 0.9, 0.2))
    strip.imshow(np.concatenate([thumbs[n] for n in names], 1), cmap="gray", vmin=0, vmax=255)
    strip.set_axis_off()
    ax = fig.add_axes((0.07, 0.22, 0.9, 0.48))
    width = 0.8 / len(controls.READERS)
    x = np.arange(len(names))
    top = max(r["readers"][k]["angle_mae_deg"]["ci95"][1] for r in rows for k in controls.READERS)
    for i, key in enumerate(controls.READERS):
        est = [r["readers"][key]["angle_mae_deg"] for r in rows]
        mean = np.array([e["mean"] for e in est])
        err = np.abs(np.array([e["ci95"] for e in est]).T - mean)
        ax.bar(
            x + (i - (len(controls.READERS) - 1) / 2) * width,
            mean,
            width,
            yerr=err,
            capsize=1.5,
            label=key.replace("_", " "),
        )
    trained = next(r for r in rows if r["texture"] == trained_name)
    ax.axhline(
        ratio * trained["readers"]["maps_second_level"]["angle_mae_deg"]["mean"],
        color="k",
        ls="--",
        lw=0.8,
        label=f"{ratio:g} x ours on the trained {trained_name}",
    )
    ax.set_xticks(x, [n.replace(" glyph", "") for n in names], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylabel("angle error, degrees")
    ax.set_ylim(0, 1.4 * top)  # room above the bars for the legend
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    fig.suptitle(f"trained on cubes of the {trained_name} only: angle read from cubes of other textures", fontsize=10)
    return fig


def columns(test: np.ndarray, angles: np.ndarray, n: int) -> np.ndarray:
    """n test cubes whose angles spread over 0..90."""
    targets = (np.arange(n) + 0.5) * 90.0 / n
    return test[np.abs(angles[test][None] - targets[:, None]).argmin(1)]


def draw_maps_and_sweep(trained, choice, compare_maps, cubes, reader, test: np.ndarray, n: int) -> dict:
    """Figure 12 on test cubes; figure 14 along the latent swept 0..1 (read as angles by the monotone fit)."""
    pick = columns(test, cubes.angles, n)
    at = np.searchsorted(test, pick)  # rows of the compare maps, which hold the test cubes only
    out = {
        "likelihood_maps.png": maps_figure(
            cubes.images[pick] / 255.0,
            choice.maps[pick].cpu().numpy(),
            cubes.compare[pick] / 255.0,
            compare_maps[at].cpu().numpy(),
            cubes.angles[pick],
            cubes.digit,
            cubes.compare_digit,
            choice.blank_rule,
        )
    }
    u = np.linspace(0.0, 1.0, n)
    out["concept_sweep.png"] = concept_sweep(
        projection.decoded_maps(choice.ae, u, trained.masks.device), u, reader.fit(u)
    )
    return out


def draw_backprojection(trained, choice, codes, textures, cubes, reader, test: np.ndarray, n: int, fraction: float):
    pick = columns(test, cubes.angles, n)
    u = reader.latent(controls.Inputs(choice.maps[pick], None))
    contexts = projection.contexts_at(choice.ae, u, cubes, fraction, trained.masks.device)
    rows = [
        (
            name,
            projection.paint_code(trained, code, contexts),
            projection.paint_code(trained, code, cubes.contexts[pick]),
            projection.true_renders(trained, textures[name], cubes.angles[pick]),
        )
        for name, code in codes.items()
    ]
    return backprojection(rows, cubes.angles[pick])
