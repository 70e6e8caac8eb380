"""The published numbers `sla density` is measured against, each with the setting it was measured
in: the one place these numbers live (density.json and the README table are written from here).

Binarized MNIST, test NLL in nats per image (lower is better). What differs between the two papers:

- MADE (Germain et al., ICML 2015, table 6): the fixed binarization of Larochelle & Murray (2011): one
  stochastic draw of each image, the same bits for training, validation and test; 50,000 / 10,000 /
  10,000 images, early stopping on validation (look-ahead 30 epochs in the authors' code). Its
  best configuration (mgermain/MADE README): two ReLU layers of 8000 units, 32 mask sets
  (order and connectivity), the direct input->output connection, Adagrad, lr 0.01, batch 100.
- IWAE (Burda et al., ICLR 2016, table 1): dynamic binarization (every image redrawn whenever it is
  read, test images included: yburda/iwae datasets.py); 59,600 training images (400 held out, unused)
  and the 10,000 test images; one stochastic layer 784-200-200-50 (tanh); Adam (eps 1e-4), batch 20,
  lr 1e-3 * 10^(-i/7) for 3^i passes, i = 0..7 (3,280 passes; yburda/iwae experiments.py); log p(x)
  estimated with k = 5000 importance samples.

``checked`` says how far each number was verified; no stored copy of either paper's table could be
read from this project, so none is marked as read in the paper itself.
"""

from __future__ import annotations

MADE_SETTING = {
    "train_binarization": "fixed",
    "test_binarization": "fixed",
    "split": "50,000 / 10,000 validation (early stopping) / 10,000 test (Larochelle & Murray 2011)",
}
IWAE_SETTING = {
    "train_binarization": "dynamic",
    "test_binarization": "dynamic",
    "split": "59,600 train / 400 held out / 10,000 test (no early stopping)",
}
MADE_CHECK = (
    "issue 23's reading of table 6; 88.04 is also quoted as MADE's binarized-MNIST result by a "
    "third-party README (EugenHotaj/pytorch-generative); not checked against the paper's table itself"
)
IWAE_CHECK = (
    "matches the 'original paper' column of a third-party reimplementation's README (a TF2 IWAE "
    "reproduction: k=1 86.76, k=5 85.54, k=50 84.78; VAE k=50 86.35); not checked against the paper itself"
)

ANCHORS = {
    "made": [
        {
            "source": "Germain et al. 2015 (MADE), table 6",
            "model": "MADE, 1 hidden layer, 1 mask",
            "nats": 88.40,
            **MADE_SETTING,
            "checked": MADE_CHECK,
        },
        {
            "source": "Germain et al. 2015 (MADE), table 6",
            "model": "MADE, 1 hidden layer, 32 masks",
            "nats": 88.04,
            **MADE_SETTING,
            "checked": MADE_CHECK,
        },
        {
            "source": "Germain et al. 2015 (MADE), table 6",
            "model": "MADE, 2 hidden layers (8000 each), 32 masks",
            "nats": 86.64,
            **MADE_SETTING,
            "checked": MADE_CHECK,
        },
    ],
    "vae": [
        {
            "source": "Burda et al. 2016 (IWAE), table 1",
            "model": "VAE (ELBO, k=1), 1 stochastic layer",
            "nats": 86.76,
            **IWAE_SETTING,
            "train_k": 1,
            "checked": IWAE_CHECK,
        },
        {
            "source": "Burda et al. 2016 (IWAE), table 1",
            "model": "IWAE, k=5, 1 stochastic layer",
            "nats": 85.54,
            **IWAE_SETTING,
            "train_k": 5,
            "checked": IWAE_CHECK,
        },
        {
            "source": "Burda et al. 2016 (IWAE), table 1",
            "model": "IWAE, k=50, 1 stochastic layer",
            "nats": 84.78,
            **IWAE_SETTING,
            "train_k": 50,
            "checked": IWAE_CHECK,
        },
    ],
}


def for_run(model: str, c) -> list[dict]:
    """The anchors of ``model``, each with ``like_with_like``: whether this run's binarization (and,
    for the IWAE rows, train_k) is the anchor's; the split and the amount of training never are."""
    out = []
    for anchor in ANCHORS.get(model, []):
        same = (
            c.train_binarization == anchor["train_binarization"]
            and c.test_binarization == anchor["test_binarization"]
            and ("train_k" not in anchor or c[model].train_k == anchor["train_k"])
        )
        out.append({**anchor, "like_with_like": same})
    return out
