"""`sla report` on the stages' current JSON (report_fixtures): every number with its interval, beside
its strongest control, with "ours worse" where a control wins; the paper's raw distances never
beside ours; density shown when the root holds it; anything else in a number's place is "not a number"."""

from __future__ import annotations

import json

from report.report_fixtures import classify_results, concept_json, density_json, oneshot_json
from report.test_report import make_root, protocol_rows, report, row, write_run
from report.test_report_hostile import rehash


def new_root(path, recon=(0.9791,), **changes):
    return make_root(path, classify=classify_results(recon), oneshot=oneshot_json(), concept=concept_json(), **changes)


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_table1_is_mean_std_over_seeds_with_the_paired_interval_against_each_mlp(tmp_path):
    text = report(new_root(tmp_path, recon=(0.978, 0.979, 0.980)))
    claim = row(text, "Table 1: set of 10")
    assert claim[1:3] == ["98.6", "97.90 ± 0.10 (mean ± std over 3 seeds)"]
    assert "3 seeds" in claim[0] and "10000 MNIST test images" in claim[0]
    assert "hidden 512 (the paper: 2048)" in claim[0]
    assert claim[3] == (
        "set − MLP of the set's width (points): -0.41 [-0.70, -0.12], **ours worse**; "
        "set − MLP with about the set's parameter count (points): -0.41 [-0.70, -0.12], **ours worse**"
    )
    assert row(text, "Table 1: fully connected")[2:4] == [
        "98.32 ± 0.00 (mean ± std over 3 seeds)",
        "MLP with about the set's parameter count: 98.57 ± 0.00 (mean ± std over 3 seeds)",
    ]
    # the table: ECE and NLL of each probabilistic model, the paired tests with McNemar per seed
    assert row(text, "set of 10 autoencoders, calibrated")[1:] == [
        "eq. (5)'s weights fitted on the validation split",
        "grey",
        "in its fitted bias",
        "4114240",
        "–",
        "98.20 ± 0.00",
        "98.32 ± 0.00",
        "0.0029 ± 0.0000",
        "0.0640 ± 0.0000",
    ]
    assert row(text, "MLP with about the set's parameter count")[4:] == [
        "4114095",
        "–",
        "98.57 ± 0.00",
        "98.52 ± 0.00",
        "0.0092 ± 0.0000",
        "0.0597 ± 0.0000",
    ]
    paired = section(text, "| set | against |", "\n\n")
    assert (
        "| set, recon | MLP of the set's width | -0.41 [-0.70, -0.12] | **ours worse** | 0.0084, 0.02, 0.5 | "
        "0 / 2 |" in paired
    )
    assert "| set, calibrated | MLP of the set's width | -0.12 [-0.39, +0.16] | no difference shown |" in paired
    assert "per seed: mlp\\_matched, mlp\\_matched, mlp\\_matched." in text


def test_one_seed_says_it_has_no_std(tmp_path):
    text = report(new_root(tmp_path))
    assert row(text, "Table 1: set of 10")[2] == "97.91 (one seed: no std)"
    assert "Test and validation accuracy %: one seed: no std" in text


def test_one_shot_shows_every_baseline_its_interval_and_where_ours_loses(tmp_path):
    text = report(new_root(tmp_path))
    claim = row(text, "Section 10: one-shot")
    assert claim[1:3] == ["all 100 contexts", "94 of 99 other contexts all correct; mean accuracy 98.5% [97.5, 99.5]"]
    assert "C − 1" in claim[0]
    honest = row(text, "Section 10, tested honestly")
    assert honest[2] == "mean accuracy 78.6% [73.9, 82.6]"
    # the control column: the oracle, and the strongest other baseline (the contrastive encoder), ours losing to it
    assert honest[3] == (
        "oracle pixel NN 84.5% [77.3, 92.1]; ours − it (points) -5.9 [-11.5, +0.1], no difference "
        "shown; contrastive encoder (InfoNCE on the cross-context pairs) 86.7% [81.8, 91.0]; "
        "ours − it (points) -8.1 [-13.2, -3.1], **ours worse**"
    )
    new = protocol_rows(text, "N-way, other drawings")
    assert new["**shared latent space (ours)**"] == ["78.6 [73.9, 82.6]", "39.3", "0 of 99", "–", ""]
    oracle = new["oracle pixel NN: the flat 28x28 glyphs, the view given for free (the ceiling)"]
    assert oracle[0] == "84.5 [77.3, 92.1]" and oracle[3:] == ["-5.9 [-11.5, +0.1]", "no difference shown"]
    assert new["pixel NN on the rendered frames"][3:] == ["+66.8 [+61.3, +71.7]", "ours better"]
    assert new["the same set trained without cross steps"][3:] == ["+68.8 [+63.5, +73.1]", "ours better"]
    assert new["one shared autoencoder for all contexts"][0] == "skipped (not given to this run)"
    assert new["contrastive encoder (InfoNCE on the cross-context pairs)"][3:] == [
        "-8.1 [-13.2, -3.1]",
        "**ours worse**",
    ]
    assert "Glyphs: fonts (classes of the first draw: A, B); 3 glyph draw(s), seeds 0, 1, 2." in text


def test_the_papers_raw_distances_never_stand_beside_ours(tmp_path):
    text = report(new_root(tmp_path))
    claims = section(text, "## The paper vs ours", "## Beyond the paper")
    assert "0.98" not in claims and "6.21" not in claims
    distances = row(text, "Section 10: latent distances")
    assert distances[1].startswith("not comparable") and "ratio" in distances[1]
    assert distances[2] == "same glyph 2.07 (spread 0.85); different glyphs 7.09 (spread 2.09)"
    assert row(text, "Section 10: ratio")[1:3] == ["6.34", "3.42"]


def test_concept_reports_the_test_split_the_readers_textures_and_backprojection(tmp_path):
    text = report(new_root(tmp_path))
    assert "Cubes split fit / select / test: fit 1200 / select 400 / test 400." in text
    assert "The map is the **masked reconstruction log-ratio to a blank face**" in text
    assert "the map's rule blank\\_ratio at temperature 1.0, by lowest select angle error" in text
    assert row(text, "blank\\_ratio | 1.0")[2:] == ["4.82", "0.950", "**chosen**"]
    assert row(text, "ours: the second level's one latent, on the maps")[1:] == [
        "4.87 [4.46, 5.33]",
        "0.964 [0.954, 0.974]",
        "–",
    ]
    assert row(text, "control: the same one-latent autoencoder")[1:4:2] == [
        "14.53 [13.38, 15.93]",
        "ours better (intervals apart)",
    ]
    assert row(text, "same best context in both digits' maps")[1] == "side=0.47; top=0.095"
    fig14 = row(text, "Section 11, figure 14")
    assert "angle error 4.87 degrees [4.46, 5.33]" in fig14[2]
    assert fig14[3] == (
        "strongest control, first principal component of the maps (no training): angle error "
        "11.45 degrees [10.73, 12.18], Spearman -0.752 [-0.762, -0.742]; ours better (intervals apart)"
    )
    # texture invariance: per texture, pooled, and ours losing to the maps' PCA made plain
    assert row(text, "digit 0 |")[1:3] == ["7.8 [6.8, 8.8]", "12.0 [11.0, 13.0]"]
    assert row(text, "digit 5 (trained)")[1] == "4.7 [3.7, 5.7]"
    assert row(text, "*pooled: every unseen texture*")[1] == "13.4 [12.7, 14.2]; 2.87x trained [2.45, 3.36]"
    assert row(text, "maps PCA |")[1:] == ["+1.03 [+0.25, +1.79]", "**ours worse**"]
    assert row(text, "pixel autoencoder |")[1:] == ["-5.48 [-7.10, -3.90]", "ours better"]
    assert "unseen\\_textures\\_at\\_most\\_1.5x\\_trained: **not met**" in text
    texture_claim = row(text, "Figure 12's claim tested")
    assert texture_claim[2] == (
        "angle error on unseen textures 13.42 [12.69, 14.19] degrees = 2.87x [2.45, 3.36] "
        "the trained texture's 4.68 [4.08, 5.30]"
    )
    assert texture_claim[3] == (
        "ours − maps PCA: +1.03 [+0.25, +1.79] degrees, **ours worse**; "
        "ours − pixel autoencoder: -5.48 [-7.10, -3.90] degrees, ours better"
    )
    # back-projection at the true angle beside the oracle, the texture's mean render and the mean cube
    assert row(text, "ours: contexts read from the map")[1] == "0.0130 [0.0126, 0.0135]"
    assert row(text, "oracle: the cube's true contexts")[1:] == [
        "0.0078 [0.0077, 0.0079]",
        "1.67",
        "**ours worse** (intervals apart)",
    ]
    assert row(text, "the mean training cube image")[1:] == [
        "0.0231 [0.0230, 0.0232]",
        "0.56",
        "ours better (intervals apart)",
    ]
    assert "against the true render of the same texture at each test cube's true angle" in text
    assert row(text, "Section 11, figures 15, 16")[3] == (
        "oracle 0.0078 [0.0077, 0.0079], **ours worse** (intervals apart); the texture's own render averaged over "
        "angles 0.0178 [0.0175, 0.0180], ours better (intervals apart); the mean training cube image 0.0231 "
        "[0.0230, 0.0232], ours better (intervals apart)"
    )


def test_density_is_shown_beside_each_anchor_when_the_root_holds_it(tmp_path):
    root = new_root(tmp_path)
    assert "### Density models" not in report(root)  # no density/ folder: no section, no "missing" stage
    write_run(
        root / "density" / "made",
        "density",
        {"density": {"model": "made"}},
        {"density.json": density_json()},
        device="cpu",
    )
    write_run(
        root / "density" / "vae",
        "density",
        {"density": {"model": "vae"}},
        {"density.json": {**density_json(se=None, anchors=False), "model": "vae"}},
    )
    text = report(root)
    rows = [line for line in text.splitlines() if line.startswith("| density/made/ (made)")]
    setting = "binarization: fixed \\(Larochelle\\); split: 50,000 / 10,000 / 10,000"
    ours = f"{setting}; test images: 10000"
    assert rows == [
        f"| density/made/ (made) | 88.90 ± 0.21 (s.e.) | exact NLL (mask ensemble) | {ours} | "
        f"MADE, 1 hidden layer, 32 masks | 88.04 | {setting} |",
        f"| density/made/ (made) | 88.90 ± 0.21 (s.e.) | exact NLL (mask ensemble) | {ours} | "
        "MADE, 2 hidden layers, 32 masks | 86.64 | not reported |",
    ]
    vae = row(text, "density/vae/ (vae)")
    assert vae[1:3] == ["88.90 (s.e. not reported)", "IWAE-k bound on the NLL"] and vae[4] == "not reported"
    assert row(text, "density/made/ |")[1:3] == ["sla density", "complete"]  # in *The runs* too


def test_strings_where_new_numbers_belong_are_not_a_number(tmp_path):
    root = new_root(tmp_path)
    data = oneshot_json()
    data["ours_minus"]["contrastive"]["new_instances"] = {"difference": "a lot", "ci95": [0, 1]}
    data["protocols"]["new_instances"]["ci95"] = ["low", "high"]
    rehash(root / "oneshot", "oneshot.json", data)
    concept = concept_json()
    concept["textures"]["rows"][0]["texture"] = "[click](x) *bold*"
    concept["backprojection"]["oracle_mse"] = "small"
    rehash(root / "concept", "concept.json", concept)
    results = json.loads((root / "classify" / "results.json").read_text())
    results["paired"]["comparisons"]["recon_vs_mlp"]["ci95_low"] = None
    results["paired"]["comparisons"]["recon_vs_mlp"]["per_seed"] = "many"
    rehash(root / "classify", "results.json", results)
    text = report(root)
    new = protocol_rows(text, "N-way, other drawings")
    assert new["contrastive encoder (InfoNCE on the cross-context pairs)"][3:] == ["not a number", ""]
    assert new["**shared latent space (ours)**"][0] == "78.6 [interval: not a number]"
    assert row(text, "\\[click\\]\\(x\\) \\*bold\\*")[1] == "7.8 [6.8, 8.8]"  # escaped, never a link
    assert row(text, "oracle: the cube's true contexts")[1:] == ["not a number", "not reported", ""]
    assert row(text, "set, recon | MLP of the set's width")[2:5] == [
        "-0.41 [interval: not a number]",
        "no interval",
        "not a number",
    ]


def test_a_seed_sweep_gives_mean_std_and_a_verdict_only_where_every_run_agrees(tmp_path):
    root = new_root(tmp_path, skip=("oneshot",))
    for seed, ours in ((0, 0.78), (1, 0.80)):
        data = oneshot_json()
        data["protocols"]["new_instances"]["mean_accuracy"] = ours
        if seed == 1:  # this run's interval against the oracle holds 0 no more: the runs disagree
            data["ours_minus"]["oracle_pixel_nn"]["new_instances"]["ci95"] = [-0.1, -0.01]
        write_run(root / "oneshot" / str(seed), "oneshot", {"model": "m", "seed": seed}, {"oneshot.json": data})
    new = protocol_rows(report(root), "N-way, other drawings")
    assert new["**shared latent space (ours)**"][0] == "79.0 ± 1.4"  # over runs: their spread is the error bar
    assert new["contrastive encoder (InfoNCE on the cross-context pairs)"][3:] == [
        "-8.1 ± 0.0",
        "**ours worse** (each of 2 runs)",
    ]
    assert (
        new["oracle pixel NN: the flat 28x28 glyphs, the view given for free (the ceiling)"][4]
        == "differs between runs"
    )


def test_a_density_folder_named_like_markdown_is_escaped_and_a_string_nll_is_not_a_number(tmp_path):
    root = new_root(tmp_path)
    write_run(root / "density" / "[x](y)", "density", {}, {"density.json": density_json(nll="low", anchors=False)})
    text = report(root)
    assert "](y)" not in text
    assert row(text, "density/\\[x\\]\\(y\\)/ (made)")[1] == "not a number"
    assert row(text, "density/\\[x\\]\\(y\\)/ |")[2] == "complete"
