"""The cubes split three ways, so that nothing is tuned on what is scored: the second level and every
monotone latent-to-angle fit learn on *fit*, the map's temperature and rule and the back-projection's
peak fraction are chosen on *select*, and every reported number comes from *test*."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_cli.errors import DataError

STREAM = 12  # the split's own random stream: changing another seeded draw does not reshuffle it


@dataclass(frozen=True)
class Splits:
    fit: np.ndarray  # sorted cube indices
    select: np.ndarray
    test: np.ndarray

    def counts(self) -> dict[str, int]:
        return {"fit": len(self.fit), "select": len(self.select), "test": len(self.test)}

    def state(self) -> dict[str, list[int]]:
        return {"fit": self.fit.tolist(), "select": self.select.tolist(), "test": self.test.tolist()}


def three_way(n: int, select_fraction: float, test_fraction: float, seed: int) -> Splits:
    """A seeded random split of n cubes: round(n x fraction) each for select and test, the rest fit.
    An empty part (or a fit part too small for a monotone fit) is a one-line DataError naming the key."""
    n_select, n_test = int(round(n * select_fraction)), int(round(n * test_fraction))
    for key, count, fraction in (("select", n_select, select_fraction), ("test", n_test, test_fraction)):
        if count < 1:
            raise DataError(
                f"concept.{key}_fraction={fraction:g} leaves no cube of the dataset's {n} in the {key} "
                f"split: raise it (or make more cubes with generate-cubes cubes.count)"
            )
    if n - n_select - n_test < 2:
        raise DataError(
            f"concept.select_fraction={select_fraction:g} and concept.test_fraction={test_fraction:g} "
            f"leave fewer than 2 of the dataset's {n} cubes to fit on"
        )
    order = np.random.default_rng([seed, STREAM]).permutation(n)
    return Splits(
        fit=np.sort(order[n_select + n_test :]),
        select=np.sort(order[n_test : n_test + n_select]),
        test=np.sort(order[:n_test]),
    )
