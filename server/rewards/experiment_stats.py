"""Treatment against holdout: the difference of two means, its 95% confidence interval
by Welch's t-test (unequal variances), and the relative difference with its interval.

A sample is kept as its count, mean and variance, so per-order figures come from sums
the database made (``Sample.of_sums``) and per-member ones from values (``Sample.of``).
The relative difference (treatment - holdout) / holdout is interval-estimated by the
delta method: its variance is vt/(nt mh^2) + mt^2 vh/(nh mh^4), with the same t
quantile (Welch-Satterthwaite degrees of freedom) as the difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from server.rewards.text import Text, msg

__all__ = ["LEAST", "LEVEL", "METHOD", "Comparison", "Sample", "compare"]

LEVEL = 0.95
LEAST = 30  # fewer values than this in an arm: the figure carries a warning
METHOD = "Welch's t-test"


@dataclass(frozen=True, slots=True)
class Sample:
    n: int
    mean: float | None  # None without values
    variance: float | None  # the sample variance (n - 1); None below 2 values

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        n = len(values)
        if not n:
            return cls(0, None, None)
        mean = math.fsum(values) / n
        if n < 2:
            return cls(n, mean, None)
        return cls(n, mean, math.fsum((v - mean) ** 2 for v in values) / (n - 1))

    @classmethod
    def of_sums(cls, n: int, total: float, squares: float) -> Sample:
        """From the count, sum and sum of squares of the values."""
        if not n:
            return cls(0, None, None)
        mean = total / n
        if n < 2:
            return cls(n, mean, None)
        return cls(n, mean, max(0.0, (squares - n * mean * mean) / (n - 1)))


@dataclass(frozen=True, slots=True)
class Comparison:
    treatment: Sample
    holdout: Sample
    difference: float | None = None
    interval: tuple[float, float] | None = None
    relative: float | None = None
    relative_interval: tuple[float, float] | None = None
    warnings: tuple[Text, ...] = field(default=())


def _quantile(df: float) -> float:
    # Imported here: scipy.stats takes half a second to import, and only reports need it.
    from scipy import stats

    return float(stats.t.ppf(0.5 + LEVEL / 2, df))


def compare(
    treatment: Sample, holdout: Sample, *, few: Text, sizes: tuple[int, int] | None = None
) -> Comparison:
    """Treatment - holdout with Welch's interval; ``few`` is the warning when an arm has
    fewer than ``LEAST`` values (or ``sizes``: the arms' buyers behind per-order values)."""
    warnings: list[Text] = []
    if min(sizes or (treatment.n, holdout.n)) < LEAST:
        warnings.append(few)
    mt, mh = treatment.mean, holdout.mean
    if mt is None or mh is None:
        warnings.append(msg("An arm has no values: there is nothing to compare."))
        return Comparison(treatment, holdout, warnings=tuple(warnings))
    difference = mt - mh
    relative = difference / mh if mh else None
    vt, vh = treatment.variance, holdout.variance
    se2 = None if vt is None or vh is None else vt / treatment.n + vh / holdout.n
    if vt is None or vh is None or not se2:
        warnings.append(
            msg("The interval is undefined: an arm has fewer than 2 values, or no spread.")
        )
        return Comparison(treatment, holdout, difference, None, relative, None, tuple(warnings))
    df = (
        se2
        * se2
        / ((vt / treatment.n) ** 2 / (treatment.n - 1) + (vh / holdout.n) ** 2 / (holdout.n - 1))
    )
    q = _quantile(df)
    half = q * math.sqrt(se2)
    interval = (difference - half, difference + half)
    relative_interval = None
    if relative is None:
        warnings.append(msg("The relative difference is undefined: the holdout's mean is 0."))
    else:
        rel_var = vt / (treatment.n * mh * mh) + mt * mt * vh / (holdout.n * mh**4)
        spread = q * math.sqrt(rel_var)
        relative_interval = (relative - spread, relative + spread)
    return Comparison(
        treatment, holdout, difference, interval, relative, relative_interval, tuple(warnings)
    )
