"""The paper's numbers live in sla_cli/paper.py alone (issue 25): no other module spells them."""

import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Table 1's accuracies, section 10's distances and their ratio, as code would write them
NUMBERS = {"0.986", "0.984", "98.6", "98.4", "6.21", "6.34", "0.98"}


def test_only_paper_py_defines_the_papers_numbers():
    """Number literals only: docstrings and comments may quote the paper."""
    offenders = []
    for path in [*ROOT.glob("sla_cli/**/*.py"), *ROOT.glob("bench/*.py")]:
        if path.name == "paper.py":
            continue
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.NUMBER and tok.string in NUMBERS:
                offenders.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_ratio_is_the_two_distances():
    from sla_cli import paper

    assert paper.DISTANCE_RATIO == 6.34 and paper.TABLE1_ACCURACY == {"ae_set": 0.986, "mlp": 0.984}
