"""The paper's numbers and claims, each beside our measure of it and our strongest control (the
report's first table).

The paper's values are quoted from its text (Table 1, section 10, section 11); ours come from
the run folders' JSON only. Each row says what ours measures and how, so a reader never compares
unlike things.
"""

from __future__ import annotations

import statistics

from sla_cli import paper
from sla_cli.report import concept, oneshot, table1, textures
from sla_cli.report.collect import BY_FOLDER, Stage
from sla_cli.report.markdown import code, table
from sla_cli.report.numbers import (
    NOT_REPORTED,
    cell,
    derived,
    difference,
    estimate,
    first,
    is_number,
    ratio,
    text,
    values,
)

# The paper's raw distances (sla_cli.paper) are in its own latent
# units, which compare with nothing of ours: only their ratio stands beside ours.
PAPER_RATIO = paper.DISTANCE_RATIO
PAPER_CONTEXTS = paper.CONTEXTS
NOT_COMPARABLE = "not comparable: the paper's raw distances are in its own latent units; only their ratio (next row) is"

# Section 11's claims, quoted word for word.
QUOTE_MAPS = "Maps are almost identical despite the different textures on cube edges."
QUOTE_SWEEP = "After training this component could be varied from 0 to 1 and decode the likelihood contexts vector"
QUOTE_BACK = (
    '"Changing the component of latent code on the second level we receive the following reconstructed '
    'images" and "we can generate (imagine) a new cube that was not presented in training data with a V sign on edges"'
)


def _source(folder: str, *keys: str) -> str:
    """Where a row's numbers are read: the step's numbers file, as the stage registry names it, and its keys."""
    return f"{folder}/{BY_FOLDER[folder].data} " + ", ".join(code(k) for k in keys)


def _seeds(stage: Stage) -> str:
    n = len(stage.records()) if stage.complete else 0
    return f"{n} runs, mean ± std" if n > 1 else "one run"


def _classify_how(c: Stage, scoring: str) -> str:
    return (
        f"Ours: the same, on {text(c, 'n_test', runs=True)} MNIST test images, {scoring}, "
        f"{table1.seeds_note(c)}; hidden {text(c, 'arch', 'ae_hidden', runs=True)} (the paper: 2048), "
        f"inputs {text(c, 'inputs', 'ae_set', runs=True)}"
    )


def _one_shot_cell(o: Stage, protocol: str) -> str:
    """'k of C − 1 other contexts all correct (mean accuracy a% [low, high])'."""
    n = oneshot.contexts_right(o, "protocols", protocol)
    if not o.complete or n == NOT_REPORTED:
        return n
    return f"{n} other contexts all correct; mean accuracy {oneshot.accuracy(o, 'ours', protocol, unit='%')}"


def _with_spread(stage: Stage, *path) -> str:
    """The distance's mean (over seeds: mean ± std) and, beside it, its spread within a run
    (the std over glyph pairs, averaged over seeds)."""
    mean = cell(stage, *path, "mean")
    spread = values(stage, *path, "std")
    if isinstance(spread, str) or not all(is_number(v) for v in spread):
        return mean
    return f"{mean} (spread {statistics.fmean(spread):.2f})"


def _measured(stage: Stage, text: str) -> str:
    """A sentence of several numbers, or the stage's state alone when it gave none."""
    return text if stage.complete else stage.status


def _oneshot_how(o: Stage, what: str) -> str:
    return (
        f"Ours: {what}; prototypes from one source context, every probe in each of the C − 1 other "
        f"contexts, {text(o, 'glyphs', 'mode') if first(o, 'glyphs', 'mode') else text(o, 'glyphs', 'source')} "
        f"glyphs; {_seeds(o)}"
    )


def _reader_control(k: Stage) -> str:
    r = concept.strongest_reader(k)
    if r is None:
        return NOT_REPORTED
    verdict = concept.reader_vs_ours(k, r)
    return (
        f"strongest control, {concept.READERS[r].split(': ', 1)[1]}: angle error "
        f"{concept.angle_error(k, r, unit=' degrees')}, Spearman {concept.spearman(k, r)}"
        + (f"; {verdict}" if verdict else "")
    )


def _texture_control(k: Stage) -> str:
    """Ours − the strongest control on the unseen textures, and − the pixel autoencoder (the issue's test)."""
    at = (*textures.SUMMARY, "angle_mae_deg")
    errors = {r: first(k, *at, r, "unseen_textures", "mean") for r in textures.READERS[1:]}
    measured = {r: e for r, e in errors.items() if is_number(e)}
    strongest = [min(measured, key=measured.get)] if measured else []
    parts = []
    for r in dict.fromkeys([*strongest, "pixels_autoencoder"]):
        d, v = difference(
            k,
            (*textures.SUMMARY, "ours_minus_control_unseen_angle_mae_deg", r, "mean"),
            (*textures.SUMMARY, "ours_minus_control_unseen_angle_mae_deg", r, "ci95"),
            better="lower",
        )
        parts.append(f"ours − {textures.HEADERS[textures.READERS.index(r)]}: {d} degrees" + (f", {v}" if v else ""))
    return "; ".join(parts)


def _texture_cell(k: Stage) -> str:
    at = (*textures.SUMMARY, "angle_mae_deg", "maps_second_level")

    def of(key: str, value: str = "mean") -> str:
        return estimate(k, (*at, key, value), (*at, key, "ci95"))

    ratio_ = estimate(
        k, (*at, "unseen_textures_over_trained", "value"), (*at, "unseen_textures_over_trained", "ci95"), unit="x"
    )
    return (
        f"angle error on unseen textures {of('unseen_textures')} degrees = {ratio_} the trained "
        f"texture's {of('trained_texture')}"
    )


def _backprojection_control(k: Stage) -> str:
    parts = []
    for p, name in concept.PAINTERS.items():
        if p != "mse":
            verdict = concept.painter_vs_ours(k, p)
            parts.append(
                f"{name.split(':')[0].split(' (')[0]} {concept.backprojection(k, p)}"
                + (f", {verdict}" if verdict else "")
            )
    return "; ".join(parts)


def rows(stages: dict[str, Stage]) -> list[list[str]]:
    c, m, o, k = stages["classify"], stages["model"], stages["oneshot"], stages["concept"]
    digits_ratio = derived(m, lambda r: ratio(r, ("latent_distance_different_digit",), ("latent_distance_same_digit",)))
    return [
        [
            "Table 1: set of 10 class autoencoders, MNIST test accuracy %. "
            + _classify_how(c, "reconstruction-error scoring (the paper's)"),
            table1.PAPER["recon"],
            table1.accuracy(c, "ae_set", "recon"),
            table1.against_mlps(c, "recon"),
            _source("classify", "ae_set.recon.accuracy", "paired.comparisons"),
        ],
        [
            "Table 1: fully connected classifier of the set's width, MNIST test accuracy %. "
            + _classify_how(c, "softmax"),
            table1.PAPER["mlp"],
            table1.accuracy(c, "mlp"),
            f"MLP with about the set's parameter count: {table1.accuracy(c, 'mlp_matched')}",
            _source("classify", "mlp.accuracy", "mlp_matched.accuracy"),
        ],
        [
            "Section 10: one-shot, the check and the plus shown in one context, told apart in every context. "
            + _oneshot_how(o, "two-way, the prototype's own drawing probed, contexts counted out of C − 1"),
            f"all {PAPER_CONTEXTS} contexts",
            _one_shot_cell(o, "paper"),
            _measured(o, oneshot.beside_controls(o, "paper")),
            _source("oneshot", "protocols.paper", "ours_minus"),
        ],
        [
            "Section 10, tested honestly (not the paper's test): one-shot in N ways on other drawings of each class. "
            + _oneshot_how(o, "N-way, new instances probed"),
            "not measured",
            _measured(o, f"mean accuracy {oneshot.accuracy(o, 'ours', 'new_instances', unit='%')}"),
            _measured(o, oneshot.beside_controls(o, "new_instances")),
            _source("oneshot", "protocols.new_instances", "ours_minus"),
        ],
        [
            "Section 10: latent distances, the same glyph in the source and another context, and different glyphs "
            "in one context. Ours: mean over glyph instances and context pairs (spread: their std), in our latent "
            "units",
            NOT_COMPARABLE,
            _measured(
                o,
                f"same glyph {_with_spread(o, 'distance', 'same_glyph_across_contexts')}; different "
                f"glyphs {_with_spread(o, 'distance', 'different_glyph_same_context')}",
            ),
            "–",
            _source("oneshot", "distance"),
        ],
        [
            "Section 10: ratio different / same (unit-free: the one distance number that compares). Ours: the "
            "ratio of the two means above",
            f"{PAPER_RATIO:.2f}",
            cell(o, "distance", "ratio"),
            "no control measured",
            _source("oneshot", "distance.ratio"),
        ],
        [
            # Not the paper's measurement (one pair of unseen glyphs; latent scales are arbitrary),
            # so only its ratio stands here, and no paper number beside it.
            "Ratio different / same on MNIST test digits instead of glyphs (mean over all context pairs; "
            "not the paper's measurement)",
            "not measured",
            _measured(m, f"{digits_ratio}"),
            "–",
            _source("model", "latent_distance_*"),
        ],
        [
            f'Section 11, figure 12: "{QUOTE_MAPS}" Ours: the test cubes\' maps ({text(k, "map", "name")}) of '
            "two digits at the same angles",
            "qualitative",
            _measured(
                k,
                f"map cosine, same angle, two digits: {cell(k, 'map_cosine_same_angle_different_digit', digits=3)}; "
                "Spearman between the maps (no temperature): "
                + estimate(
                    k,
                    ("temperature_free", "map_spearman_same_angle_different_digit", "mean"),
                    ("temperature_free", "map_spearman_same_angle_different_digit", "ci95"),
                    digits=3,
                ),
            ),
            _measured(
                k,
                f"maps 20+ degrees apart: cosine {cell(k, 'map_cosine_different_angle', digits=3)}, "
                f"Spearman {cell(k, 'temperature_free', 'map_spearman_different_angle', digits=3)}",
            ),
            _source("concept", "map_cosine_*", "temperature_free"),
        ],
        [
            "Figure 12's claim tested: the concept read from cubes of textures it never saw. Ours: the second "
            "level trained on cubes of one digit, angle error (degrees) on cubes of other digits and glyphs",
            "qualitative",
            _measured(k, _texture_cell(k)),
            _measured(k, _texture_control(k)),
            _source("concept", "textures.summary"),
        ],
        [
            f'Section 11, figure 14 (a turning cube): "{QUOTE_SWEEP}" Ours: the second level\'s one latent on the '
            "test cubes' maps against the true angle; the angle read back by a monotone fit on the fit cubes",
            "qualitative",
            _measured(
                k,
                f"Spearman(latent, true angle) {concept.spearman(k, 'maps_second_level')}; "
                f"angle error {concept.angle_error(k, 'maps_second_level', unit=' degrees')}",
            ),
            _measured(k, _reader_control(k)),
            _source("concept", "readers.on_test_cubes"),
        ],
        [
            f"Section 11, figures 15, 16: {QUOTE_BACK}. Ours: per-pixel squared error of the back-projected test "
            "cubes against the render at each cube's true angle",
            "qualitative",
            _measured(k, f"back-projection MSE {concept.backprojection(k, 'mse')}"),
            _measured(k, _backprojection_control(k)),
            _source("concept", "backprojection"),
        ],
    ]


def section(stages: dict[str, Stage]) -> list[str]:
    return [
        "## The paper vs ours",
        "",
        "Every number the paper states, beside ours and beside our strongest control. Each claim says what ours "
        "measures and how, so that unlike things are not compared: the paper's raw latent distances are in its own "
        "units and only their ratio stands beside ours. A stage that did not complete shows its state, never a "
        "number. [low, high] is a 95% interval (over test items, probes or cubes, as the stage computed it); ± is "
        "the mean ± sample std over seeds (listed under *The runs*). Where a control beats ours the cell says "
        "**ours worse**.",
        "",
        *table(
            ["claim, and what ours measures (how)", "paper", "ours", "ours beside its strongest control", "from"],
            rows(stages),
        ),
        "",
    ]
