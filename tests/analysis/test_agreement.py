"""Tests for analysis.agreement: published worked examples, the `krippendorff`
package, scikit-learn, and definitions checked by brute force."""

from __future__ import annotations

import itertools
import json
import math
import time

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from analysis.agreement import (
    Estimate,
    bootstrap_ci,
    cohen_kappa,
    cohen_kappa_ci,
    cohen_kappa_from_table,
    fleiss_kappa,
    fleiss_kappa_ci,
    fleiss_kappa_per_category,
    krippendorff_alpha,
    krippendorff_alpha_ci,
    krippendorff_alpha_masi,
    krippendorff_alpha_masi_ci,
    masi_distance,
    multilabel_prf,
    multilabel_prf_ci,
    per_theme_agreement,
    percent_agreement,
    percent_agreement_ci,
    wilson_estimate,
    wilson_interval,
)

nan = math.nan

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C:
# 4 observers x 12 units, missing values.
KRIPP_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]

# Wikipedia, "Krippendorff's alpha", worked example: 3 coders x 15 units.
WIKI_KRIPP = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 14 raters, 5 categories.
WIKI_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Fleiss (1971), Table 1: 30 patients x 6 psychiatrists, categories
# depression, personality disorder, schizophrenia, neurosis, other.
# Counts derived from the rater-level `diagnoses` data set of the R package
# `irr` (which documents it as Fleiss 1971); it reproduces the published
# overall kappa .430 and the per-category kappas .245 .245 .520 .471 .566.
FLEISS_1971 = [
    [0, 0, 0, 6, 0],
    [0, 3, 0, 0, 3],
    [0, 1, 4, 0, 1],
    [0, 0, 0, 0, 6],
    [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0],
    [0, 0, 4, 0, 2],
    [2, 0, 3, 1, 0],
    [2, 0, 0, 4, 0],
    [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0],
    [1, 1, 0, 4, 0],
    [0, 3, 3, 0, 0],
    [1, 0, 0, 5, 0],
    [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1],
    [3, 0, 0, 1, 2],
    [5, 1, 0, 0, 0],
    [0, 2, 0, 4, 0],
    [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6],
    [0, 1, 0, 5, 0],
    [0, 2, 0, 1, 3],
    [2, 0, 0, 4, 0],
    [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0],
    [4, 0, 0, 0, 2],
    [0, 2, 0, 4, 0],
    [1, 0, 5, 0, 0],
    [0, 0, 0, 0, 6],
]

# SAS example used by statsmodels: simple kappa 0.4842.
COHEN_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


# --------------------------------------------------------------------------- #
# Published values
# --------------------------------------------------------------------------- #


def test_krippendorff_2011_example() -> None:
    assert krippendorff_alpha(KRIPP_2011, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPP_2011, "interval") == pytest.approx(0.849, abs=5e-4)
    # exact values: nominal 1 - 10 * 4/(...) = 0.74342..., interval 0.84910...
    assert krippendorff_alpha(KRIPP_2011) == pytest.approx(0.743421052631579, abs=1e-12)
    for level in ("ordinal", "ratio"):
        ref = krippendorff.alpha(reliability_data=KRIPP_2011, level_of_measurement=level)
        assert krippendorff_alpha(KRIPP_2011, level) == pytest.approx(ref, abs=1e-12)
    assert krippendorff_alpha(KRIPP_2011, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(KRIPP_2011, "ratio") == pytest.approx(0.797, abs=5e-4)


def test_wikipedia_krippendorff_example() -> None:
    assert krippendorff_alpha(WIKI_KRIPP, "nominal") == pytest.approx(0.691, abs=5e-4)
    assert krippendorff_alpha(WIKI_KRIPP, "interval") == pytest.approx(0.811, abs=5e-4)


def test_missing_as_none_or_nan_and_labels() -> None:
    as_nan = [[nan if v is None else v for v in row] for row in WIKI_KRIPP]
    as_str = [[None if v is None else f"code-{v}" for v in row] for row in WIKI_KRIPP]
    ref = krippendorff_alpha(WIKI_KRIPP)
    assert krippendorff_alpha(as_nan) == pytest.approx(ref, abs=1e-12)
    assert krippendorff_alpha(np.array(as_nan)) == pytest.approx(ref, abs=1e-12)
    assert krippendorff_alpha(as_str) == pytest.approx(ref, abs=1e-12)
    with pytest.raises(TypeError):
        krippendorff_alpha(as_str, "interval")
    with pytest.raises(ValueError):
        krippendorff_alpha(WIKI_KRIPP, "cardinal")


def test_krippendorff_undefined_is_nan() -> None:
    assert math.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # no variation
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))  # nothing pairable
    assert krippendorff_alpha([[1, 2], [1, 2]]) == pytest.approx(1.0)


def test_fleiss_wikipedia() -> None:
    assert fleiss_kappa(WIKI_FLEISS) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_1971() -> None:
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.430, abs=5e-4)
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.4302445, abs=1e-7)  # R irr
    per_cat = fleiss_kappa_per_category(FLEISS_1971)
    np.testing.assert_allclose(per_cat, [0.245, 0.245, 0.520, 0.471, 0.566], atol=5e-4)


def test_fleiss_equals_binary_collapse_and_undefined() -> None:
    table = np.asarray(FLEISS_1971)
    for j in range(table.shape[1]):
        binary = np.stack([table[:, j], table.sum(axis=1) - table[:, j]], axis=1)
        assert fleiss_kappa(binary) == pytest.approx(fleiss_kappa_per_category(table)[j])
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


def test_pairwise_percent_agreement_is_fleiss_p_bar() -> None:
    codes = np.nan_to_num(np.array(KRIPP_2011)[:, :9], nan=2)  # complete 4 x 9 table
    counts = np.stack([(codes == v).sum(axis=0) for v in (1, 2, 3, 4)], axis=1)
    p_bar = np.mean(
        [(c * (c - 1)).sum() / (4 * 3) for c in counts]  # subjects x categories
    )
    assert percent_agreement(codes) == pytest.approx(p_bar)


def test_cohen_published_table() -> None:
    assert cohen_kappa_from_table(COHEN_TABLE) == pytest.approx(0.4842, abs=5e-5)
    # the same data as label sequences
    a: list[str] = []
    b: list[str] = []
    for i, row in enumerate(COHEN_TABLE):
        for j, count in enumerate(row):
            a += [f"c{i}"] * count
            b += [f"c{j}"] * count
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_from_table(COHEN_TABLE), abs=1e-12)
    # missing units are dropped
    assert cohen_kappa([*a, None, "c1"], [*b, "c0", None]) == pytest.approx(
        cohen_kappa(a, b), abs=1e-12
    )


def test_cohen_against_sklearn() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.integers(0, 4, 50)
        b = np.where(rng.random(50) < 0.6, a, rng.integers(0, 4, 50))
        assert cohen_kappa(list(a), list(b)) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_percent_agreement() -> None:
    assert percent_agreement([[1, 2, 3, 4], [1, 2, 3, 3]]) == pytest.approx(0.75)
    # 3 coders: unit 1 all agree (1), unit 2 one of three pairs agrees (1/3)
    data = [["a", "a"], ["a", "b"], ["a", "b"]]
    assert percent_agreement(data) == pytest.approx((1 + 1 / 3) / 2)
    assert percent_agreement(data, method="unanimous") == pytest.approx(0.5)
    # unit coded by only one coder is ignored
    assert percent_agreement([[1, 2, None], [1, 1, 3]]) == pytest.approx(0.5)


# --------------------------------------------------------------------------- #
# Agreement with the `krippendorff` package (property test)
# --------------------------------------------------------------------------- #


@st.composite
def reliability_matrices(draw: st.DrawFn) -> np.ndarray:
    n_coders = draw(st.integers(2, 6))
    n_units = draw(st.integers(2, 25))
    n_values = draw(st.integers(2, 6))
    values = draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, n_values - 1)),
            min_size=n_coders * n_units,
            max_size=n_coders * n_units,
        )
    )
    arr = np.array([nan if v is None else float(v) for v in values]).reshape(n_coders, n_units)
    return arr


def _reference_alpha(data: np.ndarray, level: str) -> float:
    try:
        with np.errstate(all="ignore"):
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return nan


@pytest.mark.parametrize("level", ["nominal", "interval", "ordinal", "ratio"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=reliability_matrices())
def test_matches_krippendorff_package(data: np.ndarray, level: str) -> None:
    ours = krippendorff_alpha(data, level)
    ref = _reference_alpha(data, level)
    if math.isfinite(ref):
        assert ours == pytest.approx(ref, abs=1e-9)
    else:
        assert math.isnan(ours)


def test_matches_krippendorff_package_large_and_fast() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 6, 10_000)
    data = np.where(rng.random((5, 10_000)) < 0.8, truth, rng.integers(1, 6, (5, 10_000)))
    data = data.astype(float)
    data[rng.random(data.shape) < 0.1] = nan
    for level in ("nominal", "interval"):
        start = time.perf_counter()
        ours = krippendorff_alpha(data, level)
        elapsed = time.perf_counter() - start
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ours == pytest.approx(ref, abs=1e-9)
        assert elapsed < 2.0


# --------------------------------------------------------------------------- #
# MASI
# --------------------------------------------------------------------------- #


def test_masi_distance_definition() -> None:
    assert masi_distance({"a", "b"}, {"b", "a"}) == 0.0
    assert masi_distance(set(), set()) == 0.0
    assert masi_distance({"a"}, {"b"}) == 1.0
    assert masi_distance(set(), {"a"}) == 1.0
    # subset: Jaccard 1/2, monotonicity 2/3
    assert masi_distance({"a"}, {"a", "b"}) == pytest.approx(1 - (1 / 2) * (2 / 3))
    assert masi_distance({"a", "b", "c"}, {"a"}) == pytest.approx(1 - (1 / 3) * (2 / 3))
    # overlap, neither a subset: Jaccard 1/3, monotonicity 1/3
    assert masi_distance({"a", "b"}, {"b", "c"}) == pytest.approx(1 - (1 / 3) * (1 / 3))


def _brute_force_masi_alpha(codings: list[list[frozenset[str] | None]]) -> float:
    """Straight from the definition: pairable values, all pairs within units."""
    units = list(zip(*codings, strict=True))
    values = [[v for v in u if v is not None] for u in units]
    values = [v for v in values if len(v) >= 2]
    n = sum(len(v) for v in values)
    d_o = sum(
        sum(masi_distance(x, y) for x, y in itertools.permutations(v, 2)) / (len(v) - 1)
        for v in values
    )
    pooled = [x for v in values for x in v]
    d_e = sum(masi_distance(x, y) for x, y in itertools.permutations(pooled, 2))
    if n < 2 or d_e == 0:
        return nan
    return 1 - (n - 1) * d_o / d_e


theme_sets = st.one_of(st.none(), st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=3))


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda c: st.integers(2, 10).flatmap(
            lambda u: st.lists(st.lists(theme_sets, min_size=u, max_size=u), min_size=c, max_size=c)
        )
    )
)
def test_masi_alpha_matches_definition(codings: list[list[frozenset[str] | None]]) -> None:
    ours = krippendorff_alpha_masi(codings)
    ref = _brute_force_masi_alpha(codings)
    if math.isnan(ref):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(ref, abs=1e-9)


def test_masi_alpha_on_singletons_is_nominal_alpha() -> None:
    singletons = [
        [None if math.isnan(v) else frozenset({str(int(v))}) for v in row] for row in KRIPP_2011
    ]
    assert krippendorff_alpha_masi(singletons) == pytest.approx(0.743421052631579, abs=1e-12)


def test_masi_alpha_ci() -> None:
    rng = np.random.default_rng(5)
    themes = ["a", "b", "c"]
    truth = [frozenset(t for t in themes if rng.random() < 0.4) for _ in range(60)]
    codings = [
        [s if rng.random() < 0.8 else frozenset({str(rng.choice(themes))}) for s in truth]
        for _ in range(3)
    ]
    est = krippendorff_alpha_masi_ci(codings, n_resamples=200, seed=1)
    assert est.value == pytest.approx(krippendorff_alpha_masi(codings))
    assert est.low is not None and est.high is not None
    assert est.low <= est.value <= est.high
    # the vectorised bootstrap uses exactly the draws of bootstrap_ci
    units = [list(u) for u in zip(*codings, strict=True)]
    generic = bootstrap_ci(
        lambda us: krippendorff_alpha_masi([list(c) for c in zip(*us, strict=True)]),
        units,
        n_resamples=200,
        seed=1,
    )
    assert (est.low, est.high) == pytest.approx((generic.low, generic.high), abs=1e-9)


# --------------------------------------------------------------------------- #
# Bootstrap and Wilson
# --------------------------------------------------------------------------- #


def test_bootstrap_deterministic() -> None:
    data = np.arange(50, dtype=float) ** 1.5
    a = bootstrap_ci(np.mean, data, n_resamples=300, seed=7)
    b = bootstrap_ci(np.mean, data, n_resamples=300, seed=7)
    c = bootstrap_ci(np.mean, data, n_resamples=300, seed=8)
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)
    assert a.value == pytest.approx(float(np.mean(data)))
    assert a.low is not None and a.high is not None and a.low < a.value < a.high
    assert a.n == 50
    # lists of arbitrary units work too
    d = bootstrap_ci(lambda xs: float(np.mean(xs)), list(data), n_resamples=300, seed=7)
    assert (d.low, d.high) == (a.low, a.high)


def test_bootstrap_percentile_matches_manual() -> None:
    data = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    est = bootstrap_ci(np.mean, data, n_resamples=500, confidence=0.9, seed=3)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(data), size=(500, len(data)))
    means = data[idx].mean(axis=1)
    assert est.low == pytest.approx(np.quantile(means, 0.05))
    assert est.high == pytest.approx(np.quantile(means, 0.95))


def test_bootstrap_drops_undefined_resamples() -> None:
    def stat(xs: list[int]) -> float:
        return nan if len(set(xs)) == 1 else float(np.mean(xs))

    est = bootstrap_ci(stat, [0, 1], n_resamples=200, seed=0)
    assert est.low is not None and est.high is not None
    all_nan = bootstrap_ci(lambda xs: nan, [1, 2, 3], n_resamples=10)
    assert all_nan.value is None and all_nan.low is None and all_nan.high is None


@pytest.mark.parametrize("level", ["nominal", "interval", "ordinal", "ratio"])
def test_vectorised_alpha_ci_equals_generic_bootstrap(level: str) -> None:
    data = np.array(KRIPP_2011)
    est = krippendorff_alpha_ci(data, level, n_resamples=300, seed=4)
    generic = bootstrap_ci(
        lambda units: krippendorff_alpha(units.T, level), data.T, n_resamples=300, seed=4
    )
    assert est.value == pytest.approx(krippendorff_alpha(data, level))
    assert (est.low, est.high) == pytest.approx((generic.low, generic.high), abs=1e-9)


def test_other_ci_wrappers() -> None:
    e = fleiss_kappa_ci(FLEISS_1971, n_resamples=300)
    assert e.value == pytest.approx(0.4302445, abs=1e-7)
    assert e.low is not None and e.high is not None and e.low < e.value < e.high
    a = [i % 3 for i in range(40)]
    b = [(i % 3) if i % 5 else 0 for i in range(40)]
    c = cohen_kappa_ci(a, b, n_resamples=300)
    assert c.value == pytest.approx(cohen_kappa(a, b))
    p = percent_agreement_ci([a, b], n_resamples=300)
    assert p.value == pytest.approx(percent_agreement([a, b]))
    assert json.dumps(p.to_dict(), allow_nan=False)


def test_wilson_known_values() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert (low, high) == pytest.approx((0.7225, 1.0), abs=1e-4)
    low, high = wilson_interval(81, 263)  # Newcombe (1998) example: 0.2553-0.3662
    assert (low, high) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    est = wilson_estimate(5, 10, confidence=0.99)
    assert isinstance(est, Estimate) and est.value == 0.5 and est.method == "wilson"
    assert est.low is not None and est.low < 0.2366
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


# --------------------------------------------------------------------------- #
# Model vs human
# --------------------------------------------------------------------------- #


def test_multilabel_prf_hand_example() -> None:
    gold = [{"a", "b"}, {"a"}, set(), {"c"}]
    pred = [{"a"}, {"a", "c"}, set(), set()]
    r = multilabel_prf(gold, pred)
    assert r.labels == ["a", "b", "c"]
    assert r.n == 4
    # micro: tp=2 (a, a), fp=1 (c), fn=2 (b, c)
    assert r.micro.precision == pytest.approx(2 / 3)
    assert r.micro.recall == pytest.approx(2 / 4)
    assert r.micro.f1 == pytest.approx(4 / 7)
    # per label
    assert r.per_label["a"].f1 == pytest.approx(1.0)
    assert r.per_label["b"].precision is None  # never predicted
    assert r.per_label["b"].recall == 0.0
    assert r.per_label["c"].f1 == 0.0
    assert r.per_label["a"].prevalence == pytest.approx(0.5)
    assert r.per_label["b"].support == 1 and r.per_label["c"].predicted == 1
    # macro: (1 + 0 + 0)/3 for precision with b's undefined precision counted as 0
    assert r.macro.precision == pytest.approx(1 / 3)
    assert r.macro.f1 == pytest.approx(1 / 3)
    # samples: answer 1: P=1, R=1/2, F=2/3; answer 2: P=1/2, R=1, F=2/3;
    # answer 3 both empty -> 1; answer 4 prediction empty -> 0
    assert r.samples.precision == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert r.samples.recall == pytest.approx((0.5 + 1 + 1 + 0) / 4)
    assert r.samples.f1 == pytest.approx((2 / 3 + 2 / 3 + 1 + 0) / 4)
    json.dumps(r.to_dict(), allow_nan=False)


def test_multilabel_prf_against_sklearn() -> None:
    rng = np.random.default_rng(11)
    labels = [f"t{i}" for i in range(6)]
    gold = [{lab for lab in labels if rng.random() < 0.35} | {labels[i % 6]} for i in range(200)]
    pred = [
        {lab for lab in g if rng.random() < 0.8} | {lab for lab in labels if rng.random() < 0.1}
        for g in gold
    ]
    pred = [p or {"t0"} for p in pred]  # no empty sets: sklearn's samples average agrees
    r = multilabel_prf(gold, pred)
    mlb = MultiLabelBinarizer(classes=labels)
    yg, yp = mlb.fit_transform(gold), mlb.transform(pred)
    for avg, ours in (("micro", r.micro), ("macro", r.macro), ("samples", r.samples)):
        p, rec, f, _ = precision_recall_fscore_support(yg, yp, average=avg, zero_division=0)
        assert (ours.precision, ours.recall, ours.f1) == pytest.approx((p, rec, f), abs=1e-12)


def test_multilabel_prf_labels_and_ci() -> None:
    gold = [{"a"}, {"b"}, {"a", "z"}, set()]
    pred = [{"a"}, {"a"}, {"a"}, {"z"}]
    r = multilabel_prf(gold, pred, labels=["a", "b", "c"])
    assert r.labels == ["a", "b", "c"]
    assert r.per_label["c"].f1 is None  # occurs nowhere: left out of macro
    assert r.macro.recall == pytest.approx((1 + 0) / 2)
    ci = multilabel_prf_ci(gold * 10, pred * 10, n_resamples=200, seed=2)
    again = multilabel_prf_ci(gold * 10, pred * 10, n_resamples=200, seed=2)
    assert ci == again
    point = multilabel_prf(gold * 10, pred * 10)
    assert ci.micro["f1"].value == pytest.approx(point.micro.f1)
    assert ci.samples["f1"].value == pytest.approx(point.samples.f1)
    assert ci.macro["f1"].value == pytest.approx(point.macro.f1)
    # same draws as the generic bootstrap
    pairs = list(zip(gold * 10, pred * 10, strict=True))
    generic = bootstrap_ci(
        lambda ps: multilabel_prf([g for g, _ in ps], [p for _, p in ps]).micro.f1,
        pairs,
        n_resamples=200,
        seed=2,
    )
    assert (ci.micro["f1"].low, ci.micro["f1"].high) == pytest.approx((generic.low, generic.high))
    json.dumps(ci.to_dict(), allow_nan=False)


# --------------------------------------------------------------------------- #
# Per-theme agreement
# --------------------------------------------------------------------------- #


def _binary(
    codings: dict[str, dict[str, set[str]]], answers: list[str], theme: str
) -> list[list[float]]:
    return [
        [nan if a not in per else float(theme in per[a]) for a in answers]
        for per in codings.values()
    ]


def _example_codings(n_coders: int, seed: int = 0) -> dict[str, dict[str, set[str]]]:
    rng = np.random.default_rng(seed)
    themes = ["cost", "safety", "access", "rare"]
    probs = [0.5, 0.3, 0.2, 0.02]
    answers = [f"ans{i:03d}" for i in range(80)]
    truth = {
        a: {t for t, p in zip(themes, probs, strict=True) if rng.random() < p} for a in answers
    }
    codings: dict[str, dict[str, set[str]]] = {}
    for c in range(n_coders):
        per: dict[str, set[str]] = {}
        for a in answers:
            if rng.random() < 0.1:
                continue  # not coded by this coder
            s = set(truth[a])
            if rng.random() < 0.2:
                s ^= {themes[rng.integers(0, 3)]}
            per[a] = s
        codings[f"coder{c}"] = per
    return codings


@pytest.mark.parametrize("n_coders", [2, 3])
def test_per_theme_agreement_matches_direct_statistics(n_coders: int) -> None:
    codings = _example_codings(n_coders)
    themes = ["cost", "safety", "access", "rare", "unused"]
    report = per_theme_agreement(codings, themes, n_resamples=200, seed=3)
    answers = sorted({a for per in codings.values() for a in per})
    assert report.themes == themes
    assert report.coders == [f"coder{c}" for c in range(n_coders)]
    assert report.unit == "answer x theme (present/absent)"
    pooled: list[list[float]] = [[] for _ in range(n_coders)]
    for theme in themes:
        data = _binary(codings, answers, theme)
        for row, extra in zip(pooled, data, strict=True):
            row.extend(extra)
        stats = report.per_theme[theme]
        expect_alpha = krippendorff_alpha(data)
        if math.isnan(expect_alpha):
            assert stats.krippendorff_alpha.value is None
        else:
            assert stats.krippendorff_alpha.value == pytest.approx(expect_alpha, abs=1e-12)
        assert stats.percent_agreement.value == pytest.approx(percent_agreement(data))
        arr = np.array(data)
        pairable = (~np.isnan(arr)).sum(axis=0) >= 2
        counts = np.stack(
            [(arr[:, pairable] == 1).sum(axis=0), (arr[:, pairable] == 0).sum(axis=0)], axis=1
        )
        fk = fleiss_kappa(counts)
        if math.isnan(fk):
            assert stats.fleiss_kappa.value is None
        else:
            assert stats.fleiss_kappa.value == pytest.approx(fk, abs=1e-12)
        assert stats.prevalence.value == pytest.approx(
            np.nansum(arr[:, pairable]) / np.sum(~np.isnan(arr[:, pairable]))
        )
        assert stats.n_answers == int(pairable.sum())
        if n_coders == 2:
            assert stats.cohen_kappa is not None
            ck = cohen_kappa(data[0], data[1])
            if math.isnan(ck):
                assert stats.cohen_kappa.value is None
            else:
                assert stats.cohen_kappa.value == pytest.approx(ck, abs=1e-12)
        else:
            assert stats.cohen_kappa is None
    # a theme nobody used: kappa/alpha undefined -> None, prevalence 0
    unused = report.per_theme["unused"]
    assert unused.krippendorff_alpha.value is None
    assert unused.fleiss_kappa.value is None
    assert unused.prevalence.value == 0.0
    assert unused.percent_agreement.value == 1.0
    # overall = pooled answer x theme units
    assert report.overall.krippendorff_alpha.value == pytest.approx(
        krippendorff_alpha(pooled), abs=1e-12
    )
    assert report.overall.n_units == report.n_answers * len(themes)
    # MASI alpha on the theme sets
    rows = [[frozenset(per[a]) if a in per else None for a in answers] for per in codings.values()]
    assert report.krippendorff_alpha_masi.value == pytest.approx(
        krippendorff_alpha_masi(rows), abs=1e-12
    )
    # strict JSON
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert "NaN" not in text


def test_per_theme_bootstrap_resamples_answers_like_bootstrap_ci() -> None:
    codings = _example_codings(3, seed=1)
    report = per_theme_agreement(codings, n_resamples=150, seed=9)
    answers = sorted({a for per in codings.values() for a in per})
    data = np.array(_binary(codings, answers, "cost"))
    data = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    generic = bootstrap_ci(
        lambda units: krippendorff_alpha(units.T), data.T, n_resamples=150, seed=9
    )
    est = report.per_theme["cost"].krippendorff_alpha
    assert (est.low, est.high) == pytest.approx((generic.low, generic.high), abs=1e-9)
    assert est.low is not None and est.high is not None and est.low <= est.value <= est.high
    # deterministic
    assert per_theme_agreement(codings, n_resamples=150, seed=9) == report


def test_per_theme_accepts_matrix_form_and_validates() -> None:
    rows = [
        [{"a"}, {"a", "b"}, set(), None],
        [{"a"}, {"b"}, set(), {"a"}],
    ]
    report = per_theme_agreement(rows, n_resamples=50)
    assert report.coders == ["coder_0", "coder_1"]
    assert report.n_answers == 3 and report.n_answers_total == 4
    assert report.per_theme["a"].percent_agreement.value == pytest.approx(2 / 3)
    assert report.per_theme["b"].percent_agreement.value == pytest.approx(1.0)
    with pytest.raises(ValueError):
        per_theme_agreement([rows[0]])
    with pytest.raises(TypeError):
        per_theme_agreement([["a"], ["a"]])
    noted = per_theme_agreement(rows, themes=["a"], n_resamples=10)
    assert any("outside the codeframe" in note for note in noted.notes)


def test_per_theme_with_nothing_pairable_is_all_none() -> None:
    report = per_theme_agreement({"a": {"x": {"t"}}, "b": {"y": set()}}, n_resamples=20)
    assert report.n_answers == 0 and report.n_answers_total == 2
    assert report.per_theme["t"].krippendorff_alpha.value is None
    assert report.krippendorff_alpha_masi.value is None
    json.dumps(report.to_dict(), allow_nan=False)
    empty = krippendorff_alpha_ci([[1, None], [None, 2]], n_resamples=10)
    assert empty.value is None and empty.low is None
