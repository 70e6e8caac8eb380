"""Typed configs (sla_cli/schema/): types and ranges in one place, the values in the YAML, and the
run identities unchanged by the typing."""

from __future__ import annotations

import pytest

from helpers import identities

# identities.table() before the configs were typed (tests/helpers/identities.py prints it): each
# case's run identity and a hash of its whole resolved config. A change here is a changed run.
PINNED = {
    "generate-cubes preset=smoke": ("69cce33965e50c72", "c2a40008a081c754"),
    "generate-cubes preset=demo": ("3b9d43711a2b01ec", "c0ba07e9dd488a28"),
    "generate-cubes preset=paper": ("c806ef10bf6c50f0", "9f43f89f154d2339"),
    "train preset=smoke": ("6ae20c9319d51775", "95712e049a4aea17"),
    "train preset=smoke train.variant=shared_ae": ("b00339cdae8fefdb", "9528387e38414bbc"),
    "train preset=smoke train.variant=contrastive": ("86bdc0b65e24fdc1", "e846b5c0271405c4"),
    "train preset=demo": ("4517924cfabc3c78", "2720ac28ea6ecc26"),
    "train preset=demo train.variant=shared_ae": ("86fc1c5bb4b21681", "75ff5eeaab67b254"),
    "train preset=demo train.variant=contrastive": ("c5bcbb4e0ea428c6", "e28c7aaf6c1fa088"),
    "train preset=paper": ("84f10179b3d4a2c3", "f146f4b5b41b85c8"),
    "train preset=paper train.variant=shared_ae": ("6f0fa0d055826fbd", "81001a60c6b09e4b"),
    "train preset=paper train.variant=contrastive": ("a6fc46ecba9a15a8", "e98649909e629c82"),
    "eval oneshot preset=smoke": ("12e9307d4164efb8", "92b3ef374d753570"),
    "eval oneshot preset=demo": ("eaedefd0d40d0ecb", "f0855d11d50548a5"),
    "eval oneshot preset=paper": ("29defc465a19495c", "024764c3fae55d32"),
    "eval concept preset=smoke": ("aeb0223866ef59ec", "43216e045c64f487"),
    "eval concept preset=demo": ("f2932c30adb53d0d", "29d5bb01d55c5b7d"),
    "eval concept preset=paper": ("807ce4f99c5ea584", "e888d77980ae9c2b"),
    "classify preset=smoke": ("087695eccfd477a2", "f66683112b9b5a76"),
    "classify preset=smoke classify.members=made": ("4fdfbeb7b66d9c8d", "3d31ccfce7b9f5ef"),
    "classify preset=smoke classify.members=vae": ("f9ae88f36e781278", "28e6ad9d3441ed3b"),
    "classify preset=smoke classify.members=dae": ("8623abaae736125f", "52be2e157be5f3db"),
    "classify preset=demo": ("f8cced52e23db239", "e1261fcaf0290c59"),
    "classify preset=demo classify.members=made": ("7efd13f5ac8089b9", "19cf7dfc4b1c6004"),
    "classify preset=demo classify.members=vae": ("8dd77f25d3ecafc0", "f2e0125e2c09db6d"),
    "classify preset=demo classify.members=dae": ("56975143abe7cc1b", "d64381c6d2d13ef4"),
    "classify preset=paper": ("a494d13094e0653b", "9eac0dd6f7e46c61"),
    "classify preset=paper classify.members=made": ("bc283bca5322e692", "515a4b1b1bb23534"),
    "classify preset=paper classify.members=vae": ("c9bad5757a350371", "350f18b57b64608b"),
    "classify preset=paper classify.members=dae": ("f36db280c702c935", "0ba46447d184badc"),
    "density preset=smoke": ("4f85dff81159bb7a", "562f055027efebab"),
    "density preset=smoke density.model=vae": ("2060685d2fff062d", "c7818d7ae485d34f"),
    "density preset=smoke density.model=dae": ("e53e16e77ad9ee87", "64226f8fcfd9635b"),
    "density preset=demo": ("e554e81255b473ec", "d892271b28171cca"),
    "density preset=demo density.model=vae": ("10b0c85ffe357b67", "3bfc01624b104534"),
    "density preset=demo density.model=dae": ("12efa5e13d24a92e", "9fbb1f7217ad79ad"),
    "density preset=paper": ("a6ff0d1674bd15d8", "1e83784f26a87bf3"),
    "density preset=paper density.model=vae": ("ae4589c11f221493", "a56f9bb1f943af9d"),
    "density preset=paper density.model=dae": ("212f0a474b5d3ef1", "b9b360547905cd3a"),
    "density preset=hour": ("e6ae69024e09f8ea", "d0b39a2e5a7e080e"),
    "density preset=hour density.model=vae": ("4a3e73fa323e9a73", "3c697585050db9e3"),
    "density preset=hour density.model=dae": ("cc2ceeded66c328a", "67fe3a5b7a90eecb"),
}


@pytest.mark.parametrize("case", identities.cases(), ids=lambda c: identities.case_name(*c))
def test_identities_unchanged(case, monkeypatch):
    monkeypatch.setenv("SLA_DATA_ROOT", "data")
    assert identities.hashes(*case) == PINNED[identities.case_name(*case)]
