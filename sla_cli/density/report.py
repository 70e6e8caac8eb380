"""What a finished `sla density` run writes: the test numbers (the test set read here, once), the
anchors with their settings, the times and the device in density.json; the weights; samples.png and
curves.png; the table printed at the end."""

from __future__ import annotations

import os
import time

import torch
from omegaconf import DictConfig
from rich.table import Table

from sla_cli.density import anchors, base, evaluate, figures
from sla_cli.density.data import Binarizer, GreyMnist
from sla_cli.runtime import console


def write(
    run, cfg: DictConfig, data: GreyMnist, binarizer: Binarizer, device: torch.device, members: dict, fits: dict
) -> None:
    c = cfg.density
    cls = base.get(c.model)
    torch.manual_seed(cfg.seed)  # evaluation noise (IWAE samples, corruptions) repeatable on its own
    wall, cpu = time.perf_counter(), time.process_time()
    test, about_bits = binarizer.test(data)
    numbers = {
        name: {**evaluate.numbers(m, test, c, name), **m.test_setting(c), **_fit_summary(fits[name])}
        for name, m in members.items()
    }
    result = {
        "model": c.model,
        **(numbers[c.model] if list(numbers) == [c.model] else {"members": numbers}),
        "binarization": about_bits,
        "split": {
            "train": len(data.train),
            "validation": len(data.val),
            "test": len(test),
            "validation_is": f"the last {len(data.val)} of {_source_name(cfg)} training images",
        },
        "anchors": anchors.for_run(c.model, c),
        "schedule": {
            "kind": c.schedule,
            "lr": c.lr,
            "adam_eps": c.adam_eps,
            "batch_size": c.batch_size,
            "epochs": c.epochs if c.epochs is not None else c[c.model].epochs,
            "patience": c.patience,
        },
        "train_seconds": round(sum(f.seconds for f in fits.values()), 3),
        "train_cpu_seconds": round(sum(f.cpu_seconds for f in fits.values()), 3),
        "eval_seconds": round(time.perf_counter() - wall, 3),
        "eval_cpu_seconds": round(time.process_time() - cpu, 3),
        "device": device_name(device),
        "threads": torch.get_num_threads(),
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],  # other jobs on the machine: times under load
        "curves": {name: f.rows for name, f in fits.items()},
    }
    for name, model in members.items():
        run.save_torch(f"{name}.pt", {k: v.detach().cpu() for k, v in model.state_dict().items()})
    run.save_json("density.json", result)
    run.save_figure("samples.png", cls.samples_figure(members, c, device))
    model = cls.class_model(members)
    test_nll = numbers[next(n for n, m in members.items() if m is model)].get("test_nll_nats")
    run.save_figure(
        "curves.png",
        figures.curves_figure(
            result["curves"],
            model.val_label,
            (c.train_binarization, c.test_binarization),
            {name: f.best_epoch for name, f in fits.items()},
            test_nll,
            result["anchors"],
        ),
    )
    run.describe(model=c.model, test_bits=about_bits.get("test_bits_sha256", "dynamic"), device=device_name(device))
    print_table(result, run.out_dir)


def _fit_summary(f) -> dict:
    return {
        "epochs_trained": f.epoch,
        "stopped_early": f.stopped_early,
        "best_epoch": f.best_epoch,
        "best_val_nats": f.best_val,
    }


def device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def print_table(result: dict, out) -> None:
    table = Table(title=f"sla density ({result['model']}): {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    flat = result.get("members", {"": result})
    for member, numbers in flat.items():
        for key, v in numbers.items():
            if key.endswith("_nats") and not key.endswith("_se_nats") and v is not None:
                se = numbers.get(key.removesuffix("_nats") + "_se_nats")
                table.add_row(f"{member} {key}".strip(), f"{v:.2f}" + (f" ± {se:.2f}" if se is not None else ""))
    for a in result["anchors"]:
        table.add_row(f"anchor: {a['model']}", f"{a['nats']:.2f}" + ("" if a["like_with_like"] else " (other setting)"))
    for key in ("train_seconds", "train_cpu_seconds", "eval_seconds", "device"):
        table.add_row(key, str(result[key]))
    console.print(table)


def _source_name(cfg: DictConfig) -> str:
    return "MNIST's 60,000" if cfg.data.source == "mnist" else f"data.source={cfg.data.source}'s"
