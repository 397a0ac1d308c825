"""Tests for analysis.sampling."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.agreement import wilson_interval
from analysis.sampling import (
    allocate,
    estimate_error_rate,
    sample_size_for_margin,
    simple_random_sample,
    stratified_sample,
)

IDS = [f"resp-{i:04d}" for i in range(500)]


# --------------------------------------------------------------------------- #
# Simple random sample
# --------------------------------------------------------------------------- #


def test_simple_random_sample_reproducible_and_order_independent() -> None:
    a = simple_random_sample(IDS, 40, seed=2024)
    assert a == simple_random_sample(IDS, 40, seed=2024)
    assert a == simple_random_sample(list(reversed(IDS)), 40, seed=2024)
    shuffled = list(np.random.default_rng(1).permutation(IDS))
    assert a == simple_random_sample(shuffled, 40, seed=2024)
    assert a != simple_random_sample(IDS, 40, seed=2025)
    assert len(a) == len(set(a)) == 40
    assert set(a) <= set(IDS)


def test_simple_random_sample_is_numpy_permutation_of_sorted_ids() -> None:
    ids = ["c", "a", "d", "b"]
    expected_order = np.random.default_rng(7).permutation(4)[:3]
    assert simple_random_sample(ids, 3, seed=7) == [sorted(ids)[i] for i in expected_order]


def test_simple_random_sample_prefix_stable_and_edges() -> None:
    small = simple_random_sample(IDS, 10, seed=5)
    large = simple_random_sample(IDS, 30, seed=5)
    assert large[:10] == small
    assert simple_random_sample(IDS, 0, seed=5) == []
    assert sorted(simple_random_sample(IDS, len(IDS), seed=5)) == IDS
    with pytest.raises(ValueError):
        simple_random_sample(IDS, len(IDS) + 1, seed=5)
    with pytest.raises(ValueError):
        simple_random_sample(["a", "a", "b"], 1, seed=5)
    with pytest.raises(ValueError):
        simple_random_sample(IDS, 1, seed=-1)


def test_simple_random_sample_is_uniform() -> None:
    counts = dict.fromkeys("abcde", 0)
    for seed in range(2000):
        for item in simple_random_sample(list("abcde"), 2, seed=seed):
            counts[item] += 1
    # each item is included with probability 2/5: 800 expected of 2000
    assert all(700 < c < 900 for c in counts.values())


# --------------------------------------------------------------------------- #
# Stratified sample and allocation
# --------------------------------------------------------------------------- #


def _items() -> list[tuple[str, str]]:
    strata = {"individual": 700, "organisation": 250, "campaign": 50}
    out = []
    for name, count in strata.items():
        out.extend((f"{name}-{i:03d}", name) for i in range(count))
    return out


def test_stratified_proportional_allocation() -> None:
    s = stratified_sample(_items(), 100, seed=1)
    assert s.population_sizes == {"campaign": 50, "individual": 700, "organisation": 250}
    assert s.sample_sizes == {"campaign": 5, "individual": 70, "organisation": 25}
    assert len(s.items) == 100 == len(set(s.ids))
    for item_id, stratum in s.items:
        assert item_id.startswith(stratum)
    assert s.weights()["individual"] == pytest.approx(10.0)
    json.dumps(s.to_dict())


def test_stratified_equal_allocation_with_small_stratum() -> None:
    s = stratified_sample(_items(), 180, seed=1, allocation="equal")
    # 60 each would exceed the campaign stratum (50): it is taken whole
    assert s.sample_sizes == {"campaign": 50, "individual": 65, "organisation": 65}
    s = stratified_sample(_items(), 100, seed=1, allocation="equal")
    assert sum(s.sample_sizes.values()) == 100
    assert sorted(s.sample_sizes.values()) == [33, 33, 34]
    assert s.sample_sizes["individual"] == 34  # tie goes to the larger stratum


def test_stratified_reproducible_order_independent() -> None:
    items = _items()
    a = stratified_sample(items, 60, seed=9)
    assert a == stratified_sample(list(reversed(items)), 60, seed=9)
    assert a.items != stratified_sample(items, 60, seed=10).items
    # a stratum's draw does not depend on the other strata
    only_org = [it for it in items if it[1] == "organisation"]
    b = stratified_sample(only_org, 15, seed=9)
    assert [i for i, h in a.items if h == "organisation"] == b.ids


def test_stratified_min_per_stratum_and_errors() -> None:
    s = stratified_sample(_items(), 20, seed=3, min_per_stratum=5)
    assert s.sample_sizes["campaign"] >= 5
    assert sum(s.sample_sizes.values()) == 20
    with pytest.raises(ValueError):
        stratified_sample(_items(), 10, seed=3, min_per_stratum=5)
    with pytest.raises(ValueError):
        stratified_sample([("a", "x"), ("a", "y")], 1, seed=3)
    with pytest.raises(ValueError):
        stratified_sample(_items(), 2000, seed=3)
    with pytest.raises(ValueError):
        stratified_sample(_items(), 10, seed=3, allocation="optimal")


@settings(max_examples=200, deadline=None)
@given(
    pops=st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 60), min_size=1),
    frac=st.floats(0, 1),
    allocation=st.sampled_from(["proportional", "equal"]),
)
def test_allocation_sums_to_size(pops: dict[str, int], frac: float, allocation: str) -> None:
    size = round(frac * sum(pops.values()))
    sizes = allocate(pops, size, allocation)
    assert sum(sizes.values()) == size
    assert all(0 <= sizes[h] <= pops[h] for h in pops)
    total = sum(pops.values())
    if allocation == "proportional" and total:
        for h in pops:  # Hamilton rounding: within one of the exact quota
            assert abs(sizes[h] - size * pops[h] / total) < 1 + 1e-9
    if allocation == "equal":
        open_strata = [sizes[h] for h in pops if sizes[h] < pops[h]]
        if open_strata:  # strata not taken whole differ by at most one ...
            assert max(open_strata) - min(open_strata) <= 1
            # ... and strata taken whole are the small ones
            assert all(sizes[h] <= max(open_strata) + 1 for h in pops if sizes[h] == pops[h])


# --------------------------------------------------------------------------- #
# Sample size
# --------------------------------------------------------------------------- #


def test_sample_size_known_values() -> None:
    assert sample_size_for_margin(0.05) == 385
    assert sample_size_for_margin(0.05, population=1000) == 278
    assert sample_size_for_margin(0.03) == 1068
    assert sample_size_for_margin(0.05, confidence=0.99) == 664
    assert sample_size_for_margin(0.05, expected_rate=0.1) == 139
    assert sample_size_for_margin(0.05, population=100) == 80
    assert sample_size_for_margin(0.01, population=50) <= 50
    with pytest.raises(ValueError):
        sample_size_for_margin(0)
    with pytest.raises(ValueError):
        sample_size_for_margin(0.05, expected_rate=1.5)


# --------------------------------------------------------------------------- #
# Error rate
# --------------------------------------------------------------------------- #


def test_error_rate_weighting() -> None:
    # a big stratum with few errors, a small one with many
    est = estimate_error_rate({"A": (2, 100, 9000), "B": (10, 100, 1000)})
    assert est.overall.value == pytest.approx(0.9 * 0.02 + 0.1 * 0.10)
    assert est.unweighted.value == pytest.approx(12 / 200)
    assert est.per_stratum["A"].weight == pytest.approx(0.9)
    assert est.per_stratum["B"].rate.value == pytest.approx(0.1)
    assert (est.per_stratum["B"].rate.low, est.per_stratum["B"].rate.high) == pytest.approx(
        wilson_interval(10, 100)
    )
    o = est.overall
    assert o.low is not None and o.high is not None
    assert 0 < o.low < o.value < o.high < 1
    se = math.sqrt(
        0.9**2 * (1 - 100 / 9000) * 0.02 * 0.98 / 100 + 0.1**2 * (1 - 100 / 1000) * 0.1 * 0.9 / 100
    )
    assert est.standard_error == pytest.approx(se)
    assert est.effective_n == pytest.approx(o.value * (1 - o.value) / se**2)
    assert "Wilson" in est.method
    json.dumps(est.to_dict(), allow_nan=False)


def test_error_rate_equal_rates_proportional_is_pooled_wilson() -> None:
    # proportional allocation, same rate everywhere, huge populations (FPC ~ 1)
    est = estimate_error_rate({"A": (6, 60, 6_000_000), "B": (4, 40, 4_000_000)})
    assert est.overall.value == pytest.approx(0.1)
    assert (est.overall.low, est.overall.high) == pytest.approx(wilson_interval(10, 100), abs=1e-4)


def test_error_rate_no_errors_and_census() -> None:
    est = estimate_error_rate({"A": (0, 50, 500), "B": (0, 50, 5000)})
    assert est.overall.value == 0.0
    assert est.overall.low == 0.0
    assert est.overall.high is not None and 0 < est.overall.high < 0.1
    census = estimate_error_rate({"A": (3, 30, 30), "B": (1, 10, 10)})
    assert census.overall.value == pytest.approx(0.1)
    assert census.overall.low == census.overall.high == pytest.approx(0.1)


def test_error_rate_validation() -> None:
    with pytest.raises(ValueError):
        estimate_error_rate({"A": (5, 3, 10)})
    with pytest.raises(ValueError):
        estimate_error_rate({"A": (0, 20, 10)})
    with pytest.raises(ValueError):
        estimate_error_rate({"A": (0, 0, 10)})  # unaudited stratum
    est = estimate_error_rate({"A": (1, 10, 100), "empty": (0, 0, 0)})
    assert est.overall.value == pytest.approx(0.1)


def test_error_table_from_sample() -> None:
    s = stratified_sample(_items(), 100, seed=4)
    bad = [*[i for i, h in s.items if h == "campaign"][:2], s.ids[-1]]
    table = s.error_table(bad)
    assert {h: n for h, (_, n, _) in table.items()} == s.sample_sizes
    assert sum(e for e, _, _ in table.values()) == 3
    est = estimate_error_rate(table)
    assert est.n == 100 and est.population == 1000
    with pytest.raises(ValueError):
        s.error_table(["not-sampled"])
