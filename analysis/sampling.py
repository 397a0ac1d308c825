"""Audit sampling: reproducible random samples, sample sizes, error-rate estimates.

Pure library (numpy/scipy only; never imports ``app``).

Reproducibility: a sample depends only on the seed and the *set* of item ids
(ids are sorted before drawing), never on input order, so an advisory group
can redraw the same audit sample from the published seed and id list. Draws
use ``numpy.random.default_rng`` (PCG64).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.stats import norm

from analysis.agreement import Estimate, wilson_interval

__all__ = [
    "ErrorRateEstimate",
    "StratifiedSample",
    "StratumErrorRate",
    "allocate",
    "estimate_error_rate",
    "sample_size_for_margin",
    "simple_random_sample",
    "stratified_sample",
]


def _check_seed(seed: int) -> None:
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _sorted_unique(ids: Iterable[str]) -> list[str]:
    ids = list(ids)
    unique = sorted(set(ids))
    if len(unique) != len(ids):
        raise ValueError("item ids must be unique")
    return unique


def _draw(sorted_ids: list[str], size: int, rng: np.random.Generator) -> list[str]:
    # A permutation prefix: the sample of size k is the first k items of the
    # sample of size k + 1 with the same seed, so a sample can be extended.
    order = rng.permutation(len(sorted_ids))[:size]
    return [sorted_ids[i] for i in order]


def simple_random_sample(item_ids: Sequence[str], size: int, seed: int) -> list[str]:
    """Draw ``size`` distinct ids without replacement, reproducibly.

    The ids are sorted first, so the same seed and the same set of ids give
    the same sample whatever the input order. The result is in draw order and
    prefix-stable: with the same seed a larger sample starts with the smaller
    one. Raises ``ValueError`` on duplicate ids or ``size`` outside
    ``[0, len(item_ids)]``.
    """
    _check_seed(seed)
    ids = _sorted_unique(item_ids)
    if not 0 <= size <= len(ids):
        raise ValueError(f"size must be between 0 and {len(ids)}, got {size}")
    return _draw(ids, size, np.random.default_rng(seed))


def _stratum_rng(seed: int, stratum: str) -> np.random.Generator:
    """Independent stream per stratum: depends only on (seed, stratum name)."""
    digest = hashlib.sha256(stratum.encode("utf-8")).digest()
    return np.random.default_rng([int(seed), int.from_bytes(digest[:8], "big")])


def _apportion(
    total: int, weights: Mapping[str, int], capacity: Mapping[str, int]
) -> dict[str, int]:
    """Largest-remainder (Hamilton) apportionment of ``total`` with capacities.

    Exact (rational arithmetic). Strata whose quota reaches their capacity are
    filled and the rest is re-apportioned among the others. Ties in the
    remainders go to the larger weight, then the larger capacity, then the
    stratum name.
    """
    alloc = dict.fromkeys(weights, 0)
    active = sorted(h for h in weights if capacity[h] > 0 and weights[h] > 0)
    remaining = total
    while remaining > 0 and active:
        wsum = sum(weights[h] for h in active)
        quota = {h: Fraction(remaining * weights[h], wsum) for h in active}
        full = [h for h in active if quota[h] >= capacity[h] - alloc[h]]
        if full:
            for h in full:
                remaining -= capacity[h] - alloc[h]
                alloc[h] = capacity[h]
            active = [h for h in active if h not in full]
            continue
        floors = {h: math.floor(quota[h]) for h in active}
        for h in active:
            alloc[h] += floors[h]
        left = remaining - sum(floors.values())
        order = sorted(
            active, key=lambda h: (-(quota[h] - floors[h]), -weights[h], -capacity[h], h)
        )
        for h in order[:left]:
            alloc[h] += 1
        remaining = 0
    if remaining > 0:
        raise ValueError("size exceeds the total capacity of the strata")
    return alloc


def allocate(
    population_sizes: Mapping[str, int],
    size: int,
    allocation: str = "proportional",
    min_per_stratum: int = 0,
) -> dict[str, int]:
    """Split a total sample ``size`` over strata.

    * ``"proportional"``: ``n_h`` proportional to the stratum population
      ``N_h`` (largest-remainder rounding, so the sizes sum to ``size``).
    * ``"equal"``: the same ``n_h`` in every stratum; strata too small to take
      their share are sampled completely and the rest is spread over the
      others.

    ``min_per_stratum`` first gives every stratum ``min(min_per_stratum, N_h)``
    items (so each stratum gets its own estimate) and allocates the rest by
    the rule. Sizes never exceed ``N_h`` and always sum to ``size``.
    """
    if allocation not in ("proportional", "equal"):
        raise ValueError("allocation must be 'proportional' or 'equal'")
    if any(n < 0 for n in population_sizes.values()):
        raise ValueError("population sizes must be non-negative")
    total = sum(population_sizes.values())
    if not 0 <= size <= total:
        raise ValueError(f"size must be between 0 and {total}, got {size}")
    if min_per_stratum < 0:
        raise ValueError("min_per_stratum must be >= 0")
    base = {h: min(min_per_stratum, n) for h, n in population_sizes.items()}
    if sum(base.values()) > size:
        raise ValueError(
            f"min_per_stratum={min_per_stratum} needs {sum(base.values())} items, more than {size}"
        )
    weights = (
        dict(population_sizes)
        if allocation == "proportional"
        else {h: 1 if n > 0 else 0 for h, n in population_sizes.items()}
    )
    capacity = {h: population_sizes[h] - base[h] for h in population_sizes}
    extra = _apportion(size - sum(base.values()), weights, capacity)
    return {h: base[h] + extra[h] for h in population_sizes}


@dataclass(frozen=True)
class StratifiedSample:
    """A stratified random sample and what is needed to weight it back.

    ``items`` are ``(id, stratum)`` pairs, grouped by stratum (strata in sorted
    order, draw order within a stratum). ``population_sizes`` (``N_h``) and
    ``sample_sizes`` (``n_h``) give each sampled item the weight
    ``N_h / n_h``.
    """

    items: list[tuple[str, str]]
    population_sizes: dict[str, int]
    sample_sizes: dict[str, int]
    seed: int
    allocation: str

    @property
    def ids(self) -> list[str]:
        return [i for i, _ in self.items]

    def weights(self) -> dict[str, float | None]:
        """Design weight ``N_h / n_h`` per stratum (``None`` if unsampled)."""
        return {
            h: (self.population_sizes[h] / n if n else None) for h, n in self.sample_sizes.items()
        }

    def error_table(self, erroneous_ids: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """``{stratum: (errors, n, population)}`` for :func:`estimate_error_rate`."""
        bad = set(erroneous_ids)
        unknown = bad - set(self.ids)
        if unknown:
            raise ValueError(f"ids not in the sample: {sorted(unknown)[:5]}")
        errors = dict.fromkeys(self.population_sizes, 0)
        for item_id, stratum in self.items:
            if item_id in bad:
                errors[stratum] += 1
        return {
            h: (errors[h], self.sample_sizes[h], self.population_sizes[h])
            for h in self.population_sizes
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stratified_sample(
    items: Sequence[tuple[str, str]],
    size: int,
    seed: int,
    allocation: str = "proportional",
    min_per_stratum: int = 0,
) -> StratifiedSample:
    """Stratified random sample of ``size`` items from ``(id, stratum)`` pairs.

    Sizes per stratum come from :func:`allocate`. Within a stratum the ids
    are sorted and drawn with a generator seeded from ``(seed, stratum)``
    (SHA-256 of the name), so a stratum's sample depends only on the seed, the
    stratum's name, its ids and its sample size: input order and the other
    strata do not matter.
    """
    _check_seed(seed)
    by_stratum: dict[str, list[str]] = {}
    seen: set[str] = set()
    for item_id, stratum in items:
        if item_id in seen:
            raise ValueError(f"duplicate item id {item_id!r}")
        seen.add(item_id)
        by_stratum.setdefault(stratum, []).append(item_id)
    strata = sorted(by_stratum)
    population = {h: len(by_stratum[h]) for h in strata}
    sizes = allocate(population, size, allocation, min_per_stratum)
    drawn: list[tuple[str, str]] = []
    for h in strata:
        ids = sorted(by_stratum[h])
        drawn.extend((i, h) for i in _draw(ids, sizes[h], _stratum_rng(seed, h)))
    return StratifiedSample(drawn, population, sizes, int(seed), allocation)


def sample_size_for_margin(
    margin: float,
    confidence: float = 0.95,
    expected_rate: float = 0.5,
    population: int | None = None,
) -> int:
    """Sample size to estimate a proportion within ``+/- margin``.

    ``n0 = z^2 p (1 - p) / margin^2`` (normal approximation; ``p =
    expected_rate``, 0.5 is the conservative choice). With a finite
    ``population`` N, Cochran's correction ``n = n0 / (1 + (n0 - 1) / N)``.
    Rounded up, at least 1 and at most N. E.g. margin 0.05 at 95%: 385;
    with N = 1000: 278.
    """
    if not 0.0 < margin < 1.0:
        raise ValueError("margin must be in (0, 1)")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if not 0.0 <= expected_rate <= 1.0:
        raise ValueError("expected_rate must be in [0, 1]")
    z = float(norm.ppf(0.5 + confidence / 2.0))
    n = z * z * expected_rate * (1.0 - expected_rate) / (margin * margin)
    if population is not None:
        if population < 1:
            raise ValueError("population must be >= 1")
        n = n / (1.0 + (n - 1.0) / population)
    size = max(1, math.ceil(n - 1e-9))  # tolerance: 384.0000000001 is 384
    if population is not None:
        size = min(size, population)
    return size


@dataclass(frozen=True)
class StratumErrorRate:
    errors: int
    n: int
    population: int
    weight: float  # N_h / N
    rate: Estimate  # errors / n with a Wilson interval


@dataclass(frozen=True)
class ErrorRateEstimate:
    """Result of :func:`estimate_error_rate`; ``to_dict()`` is strict JSON."""

    per_stratum: dict[str, StratumErrorRate]
    overall: Estimate  # population-weighted rate
    unweighted: Estimate  # pooled errors / pooled n (ignores the design), for comparison
    population: int
    n: int
    standard_error: float | None
    effective_n: float | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_METHOD = (
    "stratified estimator p = sum W_h p_h (W_h = N_h / N); variance "
    "v = sum W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / n_h; Wilson score interval with "
    "effective sample size p (1 - p) / v (as Korn & Graubard 1998 do for Clopper-Pearson)"
)


def estimate_error_rate(
    per_stratum: Mapping[str, tuple[int, int, int]],
    confidence: float = 0.95,
) -> ErrorRateEstimate:
    """Coding error rate per stratum and weighted to the population.

    ``per_stratum`` maps a stratum to ``(errors, n, population)``: errors found
    among ``n`` audited items drawn at random from the stratum's
    ``population`` items.

    Per stratum: ``errors / n`` with a Wilson score interval.

    Overall (method): the stratified estimator ``p = sum_h W_h p_h`` with
    ``W_h = N_h / N``, whose variance is estimated by
    ``v = sum_h W_h^2 (1 - n_h / N_h) p_h (1 - p_h) / n_h`` (with the finite
    population correction). The interval is the Wilson score interval
    for ``p`` computed with the effective sample size ``n_eff = p (1 - p) / v``
    (the device of Korn & Graubard 1998, with Wilson instead of
    Clopper-Pearson), so it stays inside [0, 1] and is not of zero width when
    no errors were found. When ``p (1 - p)`` or ``v`` is 0 (no errors, or
    only errors, in every stratum) ``n_eff = 1 / sum_h W_h^2 (1 - n_h/N_h) / n_h``
    is used, the value ``p (1 - p) / v`` takes when all strata share one
    rate. If every stratum was checked completely the interval is the point.
    With proportional allocation and equal rates this reduces to the plain
    Wilson interval on the pooled sample (up to the finite population
    correction).

    Strata with ``population == 0`` are ignored; a stratum with items but no
    audited sample raises ``ValueError`` (its error rate is unknown).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    rows: dict[str, tuple[int, int, int]] = {}
    for h, (errors, n, pop) in per_stratum.items():
        if not (0 <= errors <= n <= pop):
            raise ValueError(f"stratum {h!r}: need 0 <= errors <= n <= population")
        if pop > 0 and n == 0:
            raise ValueError(f"stratum {h!r} has {pop} items but none were audited")
        rows[h] = (int(errors), int(n), int(pop))
    total_pop = sum(pop for _, _, pop in rows.values())
    total_n = sum(n for _, n, _ in rows.values())
    total_err = sum(e for e, _, _ in rows.values())
    per: dict[str, StratumErrorRate] = {}
    p_st = 0.0
    var = 0.0
    design = 0.0  # v / (p (1 - p)) under a common rate
    for h, (errors, n, pop) in rows.items():
        w = pop / total_pop if total_pop else 0.0
        low, high = wilson_interval(errors, n, confidence)
        rate = errors / n if n else None
        per[h] = StratumErrorRate(
            errors, n, pop, w, Estimate(rate, low, high, n, confidence, "wilson")
        )
        if pop == 0:
            continue
        p_h = errors / n
        fpc = 1.0 - n / pop
        p_st += w * p_h
        var += w * w * fpc * p_h * (1.0 - p_h) / n
        design += w * w * fpc / n
    lo_u, hi_u = wilson_interval(total_err, total_n, confidence)
    unweighted = Estimate(
        total_err / total_n if total_n else None, lo_u, hi_u, total_n, confidence, "wilson"
    )
    if total_pop == 0:
        overall = Estimate(None, None, None, 0, confidence, "stratified-wilson")
        return ErrorRateEstimate(per, overall, unweighted, 0, 0, None, None, _METHOD)
    p_st = min(max(p_st, 0.0), 1.0)
    if design <= 0.0:  # census of every stratum: no sampling error
        low = high = p_st
        n_eff: float | None = None
    else:
        pq = p_st * (1.0 - p_st)
        n_eff = pq / var if (var > 0.0 and pq > 0.0) else 1.0 / design
        low, high = wilson_interval(p_st * n_eff, n_eff, confidence)
    overall = Estimate(p_st, low, high, total_n, confidence, "stratified-wilson")
    return ErrorRateEstimate(
        per_stratum=per,
        overall=overall,
        unweighted=unweighted,
        population=total_pop,
        n=total_n,
        standard_error=math.sqrt(var),
        effective_n=n_eff,
        method=_METHOD,
    )
