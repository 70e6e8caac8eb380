"""The low-data regime (issue 21): the set of class autoencoders against both MLPs as the training
images per class shrink. Reads a finished (or partly finished) classify sweep; trains nothing.

    sla classify -m preset=demo run.device=cpu run.threads=1 classify.train_per_class=10,30,100,300,1000,null \\
        classify.seeds=[0,1,2] classify.adversarial.n=0 run.out=outputs/low_data
    PYTHONPATH=. python bench/classify_low_data.py outputs/low_data [--figure docs/figures/low_data.png]

Writes SWEEP_DIR/low_data.md (accuracy mean ± std over seeds per N, and every paired set - MLP
interval) and SWEEP_DIR/low_data.png (or --figure): accuracy against N, log axis, ± 1 std bands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path)
    p.add_argument("--figure", type=Path, default=None, help="where the PNG goes (default SWEEP_DIR/low_data.png)")
    a = p.parse_args()
    from sla_cli.classify import low_data
    from sla_cli.errors import SlaError
    from sla_cli.plotting import save_figure
    from sla_cli.runfolder import write_text

    try:
        rows = low_data.summarize(low_data.read_sweep(a.sweep_dir))
    except SlaError as e:
        print(f"classify_low_data: error: {e}", file=sys.stderr)
        return 1
    text = low_data.markdown(rows, low_data.sweep_command(a.sweep_dir))
    write_text(a.sweep_dir / "low_data.md", text)
    save_figure(low_data.figure(rows), a.figure or a.sweep_dir / "low_data.png", dpi=110)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
