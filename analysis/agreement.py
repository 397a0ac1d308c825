"""Agreement statistics for auditing theme coding.

Pure library (numpy/scipy/pandas only; never imports ``app``). Everything here
is vectorised so that 10,000 units x 5 coders takes milliseconds.

Conventions
-----------
* Reliability data is **coders x units** (rows are coders, columns are units),
  missing codings are ``None`` or ``NaN``. Only units coded by at least two
  coders ("pairable" units) enter agreement statistics.
* Core statistics return a ``float`` that is ``NaN`` when the statistic is
  undefined (e.g. kappa when every coding falls in one category). The
  reporting helpers (:class:`Estimate`, :func:`per_theme_agreement`,
  :func:`multilabel_prf`) turn undefined values into ``None`` so their
  ``to_dict()`` output is strict JSON (no NaN).
* Bootstrap intervals resample **units** with replacement (for
  :func:`per_theme_agreement` the unit resampled is the answer, so all themes of
  an answer move together) and use the percentile method. Resamples in which
  the statistic is undefined are dropped before taking percentiles. A fixed
  ``seed`` gives identical intervals on every run and machine.

References
----------
* Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  Psychological Bulletin 76(5), 378-382.
* Cohen, J. (1960). A coefficient of agreement for nominal scales.
* Passonneau, R. (2006). Measuring agreement on set-valued items (MASI) for
  semantic and pragmatic annotation. LREC.
* Wilson, E. B. (1927). Probable inference, the law of succession, and
  statistical inference.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import norm

__all__ = [
    "PRF",
    "AgreementStats",
    "Estimate",
    "LabelPRF",
    "MultilabelPRF",
    "MultilabelPRFCI",
    "ThemeAgreementReport",
    "bootstrap_ci",
    "cohen_kappa",
    "cohen_kappa_ci",
    "cohen_kappa_from_table",
    "fleiss_kappa",
    "fleiss_kappa_ci",
    "fleiss_kappa_per_category",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "krippendorff_alpha_masi",
    "krippendorff_alpha_masi_ci",
    "masi_distance",
    "multilabel_prf",
    "multilabel_prf_ci",
    "per_theme_agreement",
    "percent_agreement",
    "percent_agreement_ci",
    "wilson_estimate",
    "wilson_interval",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")

# Upper bound on elements materialised at once by the chunked helpers.
_CHUNK_ELEMENTS = 4_000_000


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(norm.ppf(0.5 + confidence / 2.0))


def _clean(x: float | None) -> float | None:
    """``None`` for undefined (None/NaN/inf) values, else a plain float."""
    if x is None:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


def _is_missing(x: object) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, float | np.floating):
        return bool(np.isnan(x))
    return False


@dataclass(frozen=True)
class Estimate:
    """A point estimate with an interval.

    ``value``/``low``/``high`` are ``None`` when undefined. ``n`` is the number
    of units the estimate rests on (for bootstrap intervals: the number of
    units resampled).
    """

    value: float | None
    low: float | None
    high: float | None
    n: int
    confidence: float = 0.95
    method: str = "bootstrap-percentile"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- #
# Wilson interval
# --------------------------------------------------------------------------- #


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / n``.

    ``n`` may be non-integer (an effective sample size). With ``n == 0`` there
    is no information and ``(0.0, 1.0)`` is returned.
    """
    z = _z(confidence)
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def wilson_estimate(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """Proportion ``successes / n`` with its Wilson score interval."""
    low, high = wilson_interval(successes, n, confidence)
    value = successes / n if n > 0 else None
    return Estimate(value, low, high, int(n), confidence, "wilson")


# --------------------------------------------------------------------------- #
# Encoding reliability data
# --------------------------------------------------------------------------- #


def _encode(reliability_data: Any, *, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Encode coders x units data as integer codes (-1 = missing).

    Returns ``(codes, values)``: ``values[codes[i, u]]`` is the value coder
    ``i`` gave unit ``u``. Numeric data gives sorted float ``values``.
    """
    raw = reliability_data if isinstance(reliability_data, np.ndarray) else None
    if raw is None:
        try:
            raw = np.asarray(reliability_data)
        except ValueError as exc:  # ragged
            raise ValueError("reliability_data must be a rectangular coders x units table") from exc
    if raw.ndim != 2:
        raise ValueError(f"reliability_data must be 2-D (coders x units), got shape {raw.shape}")

    floats: np.ndarray | None = None
    if raw.dtype.kind in "biuf":
        floats = raw.astype(float)
    elif raw.dtype.kind == "O":
        flat = raw.ravel()
        missing = np.fromiter((_is_missing(x) for x in flat), dtype=bool, count=flat.size)
        present = flat[~missing]
        if all(isinstance(x, numbers.Real) for x in present):
            floats = np.full(flat.size, np.nan)
            floats[~missing] = present.astype(float)
            floats = floats.reshape(raw.shape)
        else:
            if numeric:
                raise TypeError("ordinal/interval/ratio levels need numeric values")
            codes = np.full(flat.size, -1, dtype=np.int64)
            try:
                c, uniq = pd.factorize(present, sort=True)
            except TypeError:  # unorderable mix of types
                c, uniq = pd.factorize(present, sort=False)
            codes[~missing] = c
            return codes.reshape(raw.shape), np.asarray(uniq, dtype=object)
    elif raw.dtype.kind in "US":
        if numeric:
            raise TypeError("ordinal/interval/ratio levels need numeric values")
        uniq_s, inv = np.unique(raw.ravel(), return_inverse=True)
        return inv.reshape(raw.shape).astype(np.int64), uniq_s.astype(object)
    else:
        raise TypeError(f"unsupported dtype {raw.dtype}")

    assert floats is not None
    missing_f = np.isnan(floats)
    if np.isinf(floats).any():
        raise ValueError("reliability_data contains infinite values")
    values, inv = np.unique(floats[~missing_f], return_inverse=True)
    codes_f = np.full(floats.shape, -1, dtype=np.int64)
    codes_f[~missing_f] = inv
    return codes_f, values


@dataclass(frozen=True)
class _Pairs:
    """Within-unit value pairs of pairable units (the coincidence data).

    For each pairable unit ``u`` and each ordered pair of values ``(c, k)``
    present in it, ``weight = N_uc * (N_uk - [c == k]) / (m_u - 1)``. Summing
    the weights by ``(c, k)`` gives Krippendorff's coincidence matrix.
    """

    unit: np.ndarray  # index into the pairable units (0..n_units-1)
    c: np.ndarray
    k: np.ndarray
    weight: np.ndarray
    m: np.ndarray  # values per pairable unit
    unit_index: np.ndarray  # column of each pairable unit in the input
    n_values: int


def _within_unit_pairs(codes: np.ndarray, n_values: int) -> _Pairs:
    present = codes >= 0
    m_all = present.sum(axis=0)
    pairable = np.flatnonzero(m_all >= 2)
    sub = codes[:, pairable].T  # units x coders
    m = m_all[pairable].astype(float)
    u, coder = np.nonzero(sub >= 0)
    vals = sub[u, coder]
    v = max(n_values, 1)
    keys, counts = np.unique(u.astype(np.int64) * v + vals, return_counts=True)
    e_unit = keys // v
    e_val = keys % v
    # entries are sorted by unit; group them
    _, starts, sizes = np.unique(e_unit, return_index=True, return_counts=True)
    group_size = np.repeat(sizes, sizes)
    group_start = np.repeat(starts, sizes)
    first = np.repeat(np.arange(e_unit.size), group_size)
    rep_start = np.repeat(np.cumsum(group_size) - group_size, group_size)
    second = np.repeat(group_start, group_size) + (np.arange(first.size) - rep_start)
    same = first == second
    weight = counts[first] * (counts[second] - same) / (m[e_unit[first]] - 1.0)
    return _Pairs(
        unit=e_unit[first],
        c=e_val[first],
        k=e_val[second],
        weight=weight.astype(float),
        m=m,
        unit_index=pairable,
        n_values=n_values,
    )


DeltaFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _chunked_sum(c: np.ndarray, k: np.ndarray, w: np.ndarray, delta: DeltaFn) -> float:
    total = 0.0
    step = max(1, _CHUNK_ELEMENTS // 64)
    for i in range(0, c.size, step):
        total += float(np.dot(w[i : i + step], delta(c[i : i + step], k[i : i + step])))
    return total


def _expected_sum_pairs(n_c: np.ndarray, delta: DeltaFn) -> float:
    """sum_{c,k} n_c n_k delta(c, k), over the values that occur."""
    idx = np.flatnonzero(n_c > 0)
    nv = n_c[idx]
    total = 0.0
    rows = max(1, _CHUNK_ELEMENTS // max(idx.size, 1) // 8)
    for i in range(0, idx.size, rows):
        ci = idx[i : i + rows]
        cc = np.repeat(ci, idx.size)
        kk = np.tile(idx, ci.size)
        d = delta(cc, kk).reshape(ci.size, idx.size)
        total += float(nv[i : i + rows] @ d @ nv)
    return total


def _level_delta(level: str, values: np.ndarray, n_c: np.ndarray) -> DeltaFn:
    if level == "nominal":
        return lambda c, k: (c != k).astype(float)
    x = values.astype(float)
    if level == "interval":
        return lambda c, k: (x[c] - x[k]) ** 2
    if level == "ratio":

        def ratio(c: np.ndarray, k: np.ndarray) -> np.ndarray:
            s = x[c] + x[k]
            with np.errstate(divide="ignore", invalid="ignore"):
                out = ((x[c] - x[k]) / s) ** 2
            return np.where(s == 0, 0.0, out)

        return ratio
    if level == "ordinal":
        cum = np.cumsum(n_c)

        def ordinal(c: np.ndarray, k: np.ndarray) -> np.ndarray:
            lo = np.minimum(c, k)
            hi = np.maximum(c, k)
            between = cum[hi] - cum[lo] + n_c[lo]
            return (between - (n_c[lo] + n_c[hi]) / 2.0) ** 2

        return ordinal
    raise ValueError(f"level must be one of {_LEVELS}, got {level!r}")


def _alpha_from_codes(codes: np.ndarray, values: np.ndarray, level: str) -> float:
    pairs = _within_unit_pairs(codes, len(values))
    n_c = np.bincount(pairs.c, weights=pairs.weight, minlength=len(values))
    n = float(n_c.sum())
    if n <= 1:
        return math.nan
    delta = _level_delta(level, values, n_c)
    observed = _chunked_sum(pairs.c, pairs.k, pairs.weight, delta)
    if level == "nominal":
        expected = n * n - float(np.dot(n_c, n_c))
    elif level == "interval":
        x = values.astype(float)
        mu = float(np.dot(n_c, x)) / n
        expected = 2.0 * n * float(np.dot(n_c, (x - mu) ** 2))
    else:
        expected = _expected_sum_pairs(n_c, delta)
    if expected <= 0:
        return math.nan
    return 1.0 - (n - 1.0) * observed / expected


# --------------------------------------------------------------------------- #
# Krippendorff's alpha
# --------------------------------------------------------------------------- #


def krippendorff_alpha(reliability_data: Any, level: str = "nominal") -> float:
    """Krippendorff's alpha for coders x units data with missing values.

    ``level`` is ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``
    (Krippendorff 2011 difference functions; ratio assumes non-negative
    values). Nominal data may be any hashable labels; the other levels need
    numbers. Units with fewer than two codings are ignored. Returns ``NaN``
    when alpha is undefined (fewer than two pairable values, or no variation
    in the pairable values).
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}, got {level!r}")
    codes, values = _encode(reliability_data, numeric=level != "nominal")
    return _alpha_from_codes(codes, values, level)


def masi_distance(a: Collection[Hashable], b: Collection[Hashable]) -> float:
    """MASI distance between two sets (Passonneau 2006): ``1 - J * M``.

    ``J`` is the Jaccard index (taken as 1 for two empty sets) and ``M`` is 1
    if the sets are equal, 2/3 if one is a subset of the other, 1/3 if they
    overlap otherwise and 0 if they are disjoint.
    """
    sa, sb = set(a), set(b)
    if sa == sb:
        return 0.0
    inter = len(sa & sb)
    union = len(sa | sb)
    if sa <= sb or sb <= sa:
        m = 2.0 / 3.0
    elif inter:
        m = 1.0 / 3.0
    else:
        m = 0.0
    return 1.0 - (inter / union) * m


def _encode_sets(
    codings: Sequence[Sequence[Collection[Hashable] | None]],
) -> tuple[np.ndarray, list[frozenset[Hashable]], np.ndarray]:
    """coders x units of sets -> (codes, distinct sets, bool membership matrix)."""
    rows = [list(r) for r in codings]
    if not rows:
        raise ValueError("codings must have at least one coder")
    n_units = len(rows[0])
    if any(len(r) != n_units for r in rows):
        raise ValueError("every coder must have the same number of units")
    index: dict[frozenset[Hashable], int] = {}
    codes = np.full((len(rows), n_units), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        for j, s in enumerate(r):
            if s is None:
                continue
            if isinstance(s, str):
                raise TypeError("each coding must be a set of labels (or None), not a string")
            fs = frozenset(s)
            codes[i, j] = index.setdefault(fs, len(index))
    sets = list(index)
    labels = sorted({lab for s in sets for lab in s}, key=repr)
    lab_index = {lab: i for i, lab in enumerate(labels)}
    member = np.zeros((len(sets), max(len(labels), 1)), dtype=bool)
    for i, s in enumerate(sets):
        for lab in s:
            member[i, lab_index[lab]] = True
    return codes, sets, member


def _masi_from_overlap(inter: np.ndarray, sc: np.ndarray, sk: np.ndarray) -> np.ndarray:
    """MASI distance from intersection and set sizes (broadcasting)."""
    union = sc + sk - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = np.where(union > 0, inter / np.where(union > 0, union, 1), 1.0)
    m = np.where(
        (inter == sc) & (inter == sk),
        1.0,
        np.where(inter == np.minimum(sc, sk), 2.0 / 3.0, np.where(inter > 0, 1.0 / 3.0, 0.0)),
    )
    return 1.0 - jac * m


def _masi_delta(member: np.ndarray) -> DeltaFn:
    size = member.sum(axis=1)
    packed = member.astype(np.uint8)

    def delta(c: np.ndarray, k: np.ndarray) -> np.ndarray:
        inter = np.einsum("ij,ij->i", packed[c], packed[k], dtype=np.int64)
        return _masi_from_overlap(inter, size[c], size[k])

    return delta


def _masi_row_blocks(member: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """The MASI distance matrix between all sets, in blocks of rows (via matmul)."""
    n_sets = member.shape[0]
    size = member.sum(axis=1)
    bf = member.astype(np.float64)
    rows = max(1, _CHUNK_ELEMENTS // max(n_sets, 1) // 4)
    for i in range(0, n_sets, rows):
        sl = slice(i, min(i + rows, n_sets))
        inter = np.rint(bf[sl] @ bf.T)
        yield sl, _masi_from_overlap(inter, size[sl, None], size[None, :])


def _masi_expected(member: np.ndarray, n_c: np.ndarray) -> float:
    """sum_{c,k} n_c n_k MASI(c, k) over the sets that occur."""
    idx = np.flatnonzero(n_c > 0)
    sub, nv = member[idx], n_c[idx]
    return float(sum(nv[sl] @ block @ nv for sl, block in _masi_row_blocks(sub)))


def _masi_matrix(member: np.ndarray) -> np.ndarray:
    out = np.empty((member.shape[0], member.shape[0]))
    for sl, block in _masi_row_blocks(member):
        out[sl] = block
    return out


def krippendorff_alpha_masi(codings: Sequence[Sequence[Collection[Hashable] | None]]) -> float:
    """Krippendorff's alpha for set-valued codings with the MASI distance.

    ``codings`` is coders x units; each entry is a (frozen)set of labels or
    ``None`` for missing. An empty set is a valid coding ("no theme applies").
    Returns ``NaN`` when undefined.
    """
    codes, _, member = _encode_sets(codings)
    return _alpha_masi_codes(codes, member)


def _alpha_masi_codes(codes: np.ndarray, member: np.ndarray) -> float:
    pairs = _within_unit_pairs(codes, member.shape[0])
    n_c = np.bincount(pairs.c, weights=pairs.weight, minlength=member.shape[0])
    n = float(n_c.sum())
    if n <= 1:
        return math.nan
    expected = _masi_expected(member, n_c)
    if expected <= 0:
        return math.nan
    delta = _masi_delta(member)
    return 1.0 - (n - 1.0) * _chunked_sum(pairs.c, pairs.k, pairs.weight, delta) / expected


# --------------------------------------------------------------------------- #
# Kappas and percent agreement
# --------------------------------------------------------------------------- #


def _fleiss_from_counts(counts: np.ndarray) -> tuple[float, np.ndarray]:
    m = counts.sum(axis=1)
    keep = m >= 2
    c = counts[keep]
    m = m[keep]
    if c.shape[0] == 0:
        return math.nan, np.full(counts.shape[1], math.nan)
    p_i = (c * (c - 1)).sum(axis=1) / (m * (m - 1))
    p_bar = float(p_i.mean())
    p_j = c.sum(axis=0) / m.sum()
    p_e = float(np.dot(p_j, p_j))
    kappa = math.nan if p_e >= 1.0 else (p_bar - p_e) / (1.0 - p_e)
    dis = (c * (m[:, None] - c) / (m * (m - 1))[:, None]).sum(axis=0)
    pq = c.shape[0] * p_j * (1.0 - p_j)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_cat = np.where(pq > 0, 1.0 - dis / pq, np.nan)
    return kappa, per_cat


def _as_counts(counts: Any) -> np.ndarray:
    arr = np.asarray(counts, dtype=float)
    if arr.ndim != 2:
        raise ValueError("counts must be a 2-D subjects x categories table")
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise ValueError("counts must be finite and non-negative")
    return arr


def fleiss_kappa(counts: Any) -> float:
    """Fleiss' kappa from a subjects x categories table of rater counts.

    Row ``i`` holds how many raters put subject ``i`` in each category. With a
    constant number of raters per subject this is exactly Fleiss (1971).
    Subjects may have different numbers of raters (missing codings): subjects
    with fewer than two are dropped, ``P_i`` uses each subject's own rater
    count and category proportions pool all ratings. ``NaN`` when all ratings
    fall in one category.
    """
    return _fleiss_from_counts(_as_counts(counts))[0]


def fleiss_kappa_per_category(counts: Any) -> np.ndarray:
    """Fleiss (1971) kappa for each category (category vs the rest)."""
    return _fleiss_from_counts(_as_counts(counts))[1]


def cohen_kappa_from_table(table: Any) -> float:
    """Cohen's kappa from a square confusion table (rows coder A, columns B)."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("table must be square")
    total = t.sum()
    if total <= 0:
        return math.nan
    p_o = np.trace(t) / total
    p_e = float(np.dot(t.sum(axis=1), t.sum(axis=0))) / (total * total)
    if p_e >= 1.0:
        return math.nan
    return float((p_o - p_e) / (1.0 - p_e))


def cohen_kappa(coder_a: Sequence[Any], coder_b: Sequence[Any]) -> float:
    """Cohen's kappa for two coders' labels on the same units.

    Units where either coder is missing (``None``/``NaN``) are dropped.
    ``NaN`` when undefined (no units, or both coders used one and the same
    single category).
    """
    if len(coder_a) != len(coder_b):
        raise ValueError("coder_a and coder_b must have the same length")
    codes, values = _encode(np.array([list(coder_a), list(coder_b)], dtype=object), numeric=False)
    both = (codes >= 0).all(axis=0)
    a, b = codes[0, both], codes[1, both]
    v = max(len(values), 1)
    table = np.bincount(a * v + b, minlength=v * v).reshape(v, v)
    return cohen_kappa_from_table(table)


def percent_agreement(reliability_data: Any, method: str = "pairwise") -> float:
    """Observed agreement (a proportion in [0, 1]) among 2+ coders.

    ``reliability_data`` is coders x units (missing as ``None``/``NaN``); only
    units with at least two codings count.

    * ``"pairwise"`` (default): for each unit, the share of ordered coder pairs
      that agree, averaged over units (Fleiss' ``P-bar``; with two coders the
      share of units on which they agree).
    * ``"unanimous"``: share of units on which all coders agree.
    """
    codes, values = _encode(reliability_data, numeric=False)
    return _percent_agreement_codes(codes, len(values), method)


def _percent_agreement_codes(codes: np.ndarray, n_values: int, method: str) -> float:
    if method not in ("pairwise", "unanimous"):
        raise ValueError("method must be 'pairwise' or 'unanimous'")
    pairs = _within_unit_pairs(codes, n_values)
    n_units = pairs.m.size
    if n_units == 0:
        return math.nan
    if method == "pairwise":
        agree = np.bincount(
            pairs.unit, weights=pairs.weight * (pairs.c == pairs.k), minlength=n_units
        )
        return float(np.mean(agree / pairs.m))
    distinct = np.bincount(pairs.unit[pairs.c == pairs.k], minlength=n_units)
    return float(np.mean(distinct == 1))


# --------------------------------------------------------------------------- #
# Bootstrap
# --------------------------------------------------------------------------- #


def _resample_index_chunks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap indices, in chunks of rows (the stream does not depend on chunking)."""
    rng = np.random.default_rng(seed)
    rows = max(1, min(256, _CHUNK_ELEMENTS // max(n, 1)))
    done = 0
    while done < n_resamples:
        b = min(rows, n_resamples - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def _resample_weight_chunks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """How often each unit appears in each resample (b x n), same draws as above."""
    for idx in _resample_index_chunks(n, n_resamples, seed):
        b = idx.shape[0]
        flat = (idx + (np.arange(b) * n)[:, None]).ravel()
        yield np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _percentile(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring NaN; NaN where nothing is defined."""
    tail = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(samples, [tail, 1.0 - tail], axis=0)
    return q[0], q[1]


def _take(data: Any, idx: np.ndarray) -> Any:
    if isinstance(data, np.ndarray):
        return data[idx]
    if isinstance(data, pd.DataFrame | pd.Series):
        return data.iloc[idx]
    return [data[i] for i in idx]


def bootstrap_ci(
    statistic_fn: Callable[[Any], float],
    data_units: Any,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Percentile bootstrap interval for ``statistic_fn(data_units)``.

    ``data_units`` is a sequence of units (list, numpy array indexed on axis
    0, or pandas object indexed by position); each resample draws
    ``len(data_units)`` units with replacement using
    ``numpy.random.default_rng(seed)``, so a seed gives the same interval
    every time. Resamples where the statistic is undefined (NaN/None) are
    dropped. For coders x units reliability data pass the transpose (units
    first) and transpose back inside ``statistic_fn``.
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    _z(confidence)
    n = len(data_units)
    value = _clean(statistic_fn(data_units)) if n else None
    if n == 0:
        return Estimate(None, None, None, 0, confidence)
    stats = np.empty(n_resamples)
    pos = 0
    for chunk in _resample_index_chunks(n, n_resamples, seed):
        for idx in chunk:
            s = statistic_fn(_take(data_units, idx))
            stats[pos] = math.nan if s is None else float(s)
            pos += 1
    low, high = _percentile(stats, confidence)
    return Estimate(value, _clean(float(low)), _clean(float(high)), n, confidence)


def krippendorff_alpha_ci(
    reliability_data: Any,
    level: str = "nominal",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Krippendorff's alpha with a percentile bootstrap interval (resampling units).

    Nominal, interval and ratio are vectorised (about a second for 10,000
    units and 1,000 resamples). The ordinal metric depends on the value
    frequencies of each resample, so ordinal recomputes alpha per resample
    (same draws, slower).
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}, got {level!r}")
    _z(confidence)
    codes, values = _encode(reliability_data, numeric=level != "nominal")
    n_units = codes.shape[1]
    if n_units == 0 or n_resamples < 1:
        return bootstrap_ci(lambda u: math.nan, [], n_resamples, confidence, seed)
    value = _alpha_from_codes(codes, values, level)
    pairs = _within_unit_pairs(codes, len(values))
    x = values.astype(float) if level != "nominal" else None
    expected_fn: Callable[[np.ndarray], np.ndarray] | None = None
    if level == "nominal":
        delta = _level_delta(level, values, np.zeros(len(values)))

        def expected_fn(nc: np.ndarray) -> np.ndarray:
            return nc.sum(axis=1) ** 2 - (nc * nc).sum(axis=1)

    elif level == "interval":
        assert x is not None
        delta = _level_delta(level, values, np.zeros(len(values)))
        xc = x - (float(x.mean()) if x.size else 0.0)

        def expected_fn(nc: np.ndarray) -> np.ndarray:
            return 2.0 * nc.sum(axis=1) * (nc @ (xc * xc)) - 2.0 * (nc @ xc) ** 2

    elif level == "ratio" and len(values) <= _DENSE_LIMIT:
        delta = _level_delta(level, values, np.zeros(len(values)))
        expected_fn = _dense_expected(delta, len(values))
    if expected_fn is None:  # ordinal (metric depends on the resample) or huge ratio domain

        def stat(units: np.ndarray) -> float:
            return _alpha_from_codes(units.T, values, level)

        return bootstrap_ci(stat, codes.T, n_resamples, confidence, seed)
    samples = _weighted_alpha_samples(pairs, n_units, delta, expected_fn, n_resamples, seed)
    lo, hi = _percentile(samples, confidence)
    return Estimate(_clean(value), _clean(float(lo)), _clean(float(hi)), n_units, confidence)


# Largest value domain for which bootstrap helpers build a dense delta matrix.
_DENSE_LIMIT = 2000


def _dense_expected(delta: DeltaFn, n_values: int) -> Callable[[np.ndarray], np.ndarray]:
    ii, jj = np.meshgrid(np.arange(n_values), np.arange(n_values), indexing="ij")
    dmat = delta(ii.ravel(), jj.ravel()).reshape(n_values, n_values)

    def expected(nc: np.ndarray) -> np.ndarray:
        return ((nc @ dmat) * nc).sum(axis=1)

    return expected


def _weighted_alpha_samples(
    pairs: _Pairs,
    n_units: int,
    delta: DeltaFn,
    expected_fn: Callable[[np.ndarray], np.ndarray],
    n_resamples: int,
    seed: int,
) -> np.ndarray:
    """Bootstrap replicates of alpha for a metric that does not depend on the data.

    Observed disagreement and value counts are sums over units, so each
    resample is a weighted sum (weights = how often each unit was drawn).
    Uses the same draws as :func:`bootstrap_ci` with the same seed.
    """
    units = pairs.unit_index[pairs.unit]
    observed_u = np.bincount(
        units, weights=pairs.weight * delta(pairs.c, pairs.k), minlength=n_units
    )
    counts = sparse.csr_matrix(
        (pairs.weight, (units, pairs.c)), shape=(n_units, max(pairs.n_values, 1))
    )
    out: list[np.ndarray] = []
    for w in _resample_weight_chunks(n_units, n_resamples, seed):
        nc = np.asarray((counts.T @ w.T).T)
        n = nc.sum(axis=1)
        expected = expected_fn(nc)
        observed = w @ observed_u
        ok = (expected > 0) & (n > 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(
                np.where(ok, 1.0 - (n - 1.0) * observed / np.where(ok, expected, 1.0), np.nan)
            )
    return np.concatenate(out)


def percent_agreement_ci(
    reliability_data: Any,
    method: str = "pairwise",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Percent agreement with a bootstrap interval (resampling units)."""
    codes, values = _encode(reliability_data, numeric=False)
    return bootstrap_ci(
        lambda units: _percent_agreement_codes(units.T, len(values), method),
        codes.T,
        n_resamples,
        confidence,
        seed,
    )


def cohen_kappa_ci(
    coder_a: Sequence[Any],
    coder_b: Sequence[Any],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Cohen's kappa with a bootstrap interval (resampling units)."""
    if len(coder_a) != len(coder_b):
        raise ValueError("coder_a and coder_b must have the same length")
    codes, values = _encode(np.array([list(coder_a), list(coder_b)], dtype=object), numeric=False)
    codes = codes[:, (codes >= 0).all(axis=0)]
    v = max(len(values), 1)
    keys = codes[0] * v + codes[1]
    return bootstrap_ci(
        lambda k: cohen_kappa_from_table(np.bincount(k, minlength=v * v).reshape(v, v)),
        keys,
        n_resamples,
        confidence,
        seed,
    )


def fleiss_kappa_ci(
    counts: Any,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Fleiss' kappa with a bootstrap interval (resampling subjects)."""
    arr = _as_counts(counts)
    return bootstrap_ci(
        lambda rows: _fleiss_from_counts(rows)[0], arr, n_resamples, confidence, seed
    )


# --------------------------------------------------------------------------- #
# Model vs human: multi-label precision / recall / F1
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class PRF:
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class LabelPRF:
    precision: float | None
    recall: float | None
    f1: float | None
    support: int  # gold positives
    predicted: int  # predicted positives
    tp: int
    fp: int
    fn: int
    prevalence: float | None  # support / n (share of answers carrying the label in gold)


@dataclass(frozen=True)
class MultilabelPRF:
    """Result of :func:`multilabel_prf` (JSON-serialisable via ``to_dict``)."""

    micro: PRF
    macro: PRF
    samples: PRF
    per_label: dict[str, LabelPRF]
    labels: list[str]
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _binarise(
    gold: Sequence[Collection[str]],
    predicted: Sequence[Collection[str]],
    labels: Sequence[str] | None,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted must have the same length")
    for s in (*gold, *predicted):
        if isinstance(s, str) or s is None:
            raise TypeError("each item must be a set of labels (use an empty set for none)")
    if labels is None:
        labels = sorted({lab for s in (*gold, *predicted) for lab in s})
    labs = list(labels)
    if len(set(labs)) != len(labs):
        raise ValueError("labels must be unique")
    index = {lab: i for i, lab in enumerate(labs)}

    def matrix(sets: Sequence[Collection[str]]) -> np.ndarray:
        rows: list[int] = []
        cols: list[int] = []
        for i, s in enumerate(sets):
            for lab in s:
                j = index.get(lab)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        out = np.zeros((len(sets), len(labs)), dtype=bool)
        out[rows, cols] = True
        return out

    return labs, matrix(gold), matrix(predicted)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _prf_from_sums(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, sample_sums: np.ndarray, n: np.ndarray
) -> dict[str, np.ndarray]:
    """All summary metrics from (weighted) counts; leading axes are resamples.

    ``tp``/``fp``/``fn`` are ``(..., L)``; ``sample_sums`` is ``(..., 3)`` with
    the summed per-answer precision, recall and F1; ``n`` is ``(...)``.
    """
    out: dict[str, np.ndarray] = {}
    p_l = _safe_div(tp, tp + fp)
    r_l = _safe_div(tp, tp + fn)
    f_l = _safe_div(2 * tp, 2 * tp + fp + fn)
    out["label_precision"], out["label_recall"], out["label_f1"] = p_l, r_l, f_l
    stp, sfp, sfn = tp.sum(-1), fp.sum(-1), fn.sum(-1)
    out["micro_precision"] = _safe_div(stp, stp + sfp)
    out["micro_recall"] = _safe_div(stp, stp + sfn)
    out["micro_f1"] = _safe_div(2 * stp, 2 * stp + sfp + sfn)
    occurs = (tp + fp + fn) > 0
    n_occ = occurs.sum(-1)
    for name, vals in (("precision", p_l), ("recall", r_l), ("f1", f_l)):
        filled = np.where(occurs, np.nan_to_num(vals, nan=0.0), 0.0)
        out[f"macro_{name}"] = _safe_div(filled.sum(-1), n_occ.astype(float))
    for i, name in enumerate(("precision", "recall", "f1")):
        out[f"samples_{name}"] = _safe_div(sample_sums[..., i], n)
    return out


def _per_answer_prf(g: np.ndarray, p: np.ndarray) -> np.ndarray:
    """n x 3 per-answer precision, recall, F1 (empty-set convention applied)."""
    inter = (g & p).sum(axis=1).astype(float)
    ng = g.sum(axis=1).astype(float)
    npred = p.sum(axis=1).astype(float)
    both_empty = (ng == 0) & (npred == 0)
    prec = np.where(npred > 0, inter / np.maximum(npred, 1.0), 0.0)
    rec = np.where(ng > 0, inter / np.maximum(ng, 1.0), 0.0)
    f1 = np.where(ng + npred > 0, 2 * inter / np.maximum(ng + npred, 1.0), 0.0)
    res = np.stack([prec, rec, f1], axis=1)
    res[both_empty] = 1.0
    return res


def multilabel_prf(
    gold: Sequence[Collection[str]],
    predicted: Sequence[Collection[str]],
    labels: Sequence[str] | None = None,
) -> MultilabelPRF:
    """Precision, recall and F1 of predicted theme sets against gold sets.

    ``gold[i]`` and ``predicted[i]`` are the sets of labels of answer ``i``
    (an empty set means "no theme"). ``labels`` fixes the label list (labels
    outside it are ignored); by default the sorted union of all labels.

    Conventions (chosen so nothing is silently NaN):

    * per label: precision is ``None`` when the label was never predicted,
      recall ``None`` when it never occurs in gold, F1 = 2TP/(2TP+FP+FN) is
      ``None`` only when the label occurs in neither.
    * micro: pooled TP/FP/FN over labels.
    * macro: unweighted mean over the labels that occur in gold or in the
      predictions; an undefined precision/recall of such a label counts as 0
      (as scikit-learn's ``zero_division=0``). Labels occurring nowhere are
      left out (scikit-learn would count them as 0).
    * samples: per-answer precision |G&P|/|P|, recall |G&P|/|G|, F1
      2|G&P|/(|G|+|P|), averaged over answers. **When gold and predicted are
      both empty the answer scores 1.0 on all three** (correctly coded "no
      theme"); when exactly one side is empty it scores 0.0 on all three.
    """
    labs, g, p = _binarise(gold, predicted, labels)
    n = g.shape[0]
    tp = (g & p).sum(axis=0).astype(float)
    fp = (~g & p).sum(axis=0).astype(float)
    fn = (g & ~p).sum(axis=0).astype(float)
    sample_sums = _per_answer_prf(g, p).sum(axis=0)
    m = _prf_from_sums(tp, fp, fn, sample_sums, np.asarray(float(n)))

    def prf(prefix: str) -> PRF:
        return PRF(
            _clean(float(m[f"{prefix}_precision"])),
            _clean(float(m[f"{prefix}_recall"])),
            _clean(float(m[f"{prefix}_f1"])),
        )

    per_label = {
        lab: LabelPRF(
            precision=_clean(float(m["label_precision"][j])),
            recall=_clean(float(m["label_recall"][j])),
            f1=_clean(float(m["label_f1"][j])),
            support=int(tp[j] + fn[j]),
            predicted=int(tp[j] + fp[j]),
            tp=int(tp[j]),
            fp=int(fp[j]),
            fn=int(fn[j]),
            prevalence=_clean((tp[j] + fn[j]) / n) if n else None,
        )
        for j, lab in enumerate(labs)
    }
    return MultilabelPRF(prf("micro"), prf("macro"), prf("samples"), per_label, labs, n)


@dataclass(frozen=True)
class MultilabelPRFCI:
    """Bootstrap intervals for :func:`multilabel_prf` metrics.

    ``micro``/``macro``/``samples`` map ``precision``/``recall``/``f1`` to an
    :class:`Estimate`; ``per_label[label]`` maps ``precision``, ``recall``,
    ``f1`` and ``prevalence`` to an :class:`Estimate`.
    """

    micro: dict[str, Estimate]
    macro: dict[str, Estimate]
    samples: dict[str, Estimate]
    per_label: dict[str, dict[str, Estimate]]
    labels: list[str]
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def multilabel_prf_ci(
    gold: Sequence[Collection[str]],
    predicted: Sequence[Collection[str]],
    labels: Sequence[str] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> MultilabelPRFCI:
    """:func:`multilabel_prf` metrics with percentile bootstrap intervals.

    Answers are resampled with replacement (same draws as :func:`bootstrap_ci`
    with the same seed); computed in a vectorised way from resample counts.
    """
    _z(confidence)
    labs, g, p = _binarise(gold, predicted, labels)
    n = g.shape[0]
    feats = np.concatenate(
        [
            (g & p).astype(float),
            (~g & p).astype(float),
            (g & ~p).astype(float),
            g.astype(float),
            _per_answer_prf(g, p),
        ],
        axis=1,
    )
    L = len(labs)

    def metrics(sums: np.ndarray, count: np.ndarray) -> dict[str, np.ndarray]:
        tp, fp, fn = sums[..., :L], sums[..., L : 2 * L], sums[..., 2 * L : 3 * L]
        out = _prf_from_sums(tp, fp, fn, sums[..., 4 * L :], count)
        out["label_prevalence"] = _safe_div(sums[..., 3 * L : 4 * L], count[..., None])
        return out

    point = metrics(feats.sum(axis=0), np.asarray(float(n)))
    boot: dict[str, list[np.ndarray]] = {k: [] for k in point}
    if n > 0:
        for w in _resample_weight_chunks(n, n_resamples, seed):
            res = metrics(w @ feats, w.sum(axis=1))
            for k, v in res.items():
                boot[k].append(v)

    def est(key: str, j: int | None = None) -> Estimate:
        value = point[key] if j is None else point[key][j]
        if n == 0:
            return Estimate(None, None, None, 0, confidence)
        samples = np.concatenate(boot[key], axis=0)
        if j is not None:
            samples = samples[:, j]
        lo, hi = _percentile(samples, confidence)
        return Estimate(_clean(float(value)), _clean(float(lo)), _clean(float(hi)), n, confidence)

    names = ("precision", "recall", "f1")
    return MultilabelPRFCI(
        micro={k: est(f"micro_{k}") for k in names},
        macro={k: est(f"macro_{k}") for k in names},
        samples={k: est(f"samples_{k}") for k in names},
        per_label={
            lab: {k: est(f"label_{k}", j) for k in (*names, "prevalence")}
            for j, lab in enumerate(labs)
        },
        labels=labs,
        n=n,
    )


# --------------------------------------------------------------------------- #
# Per-theme agreement (unit: answer x theme, present/absent)
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class AgreementStats:
    """Agreement on present/absent codings of one theme (or all themes pooled).

    ``n_units`` counts answer x theme units coded by at least two coders;
    ``n_answers`` counts the answers behind them (the bootstrap resamples
    answers). ``cohen_kappa`` is ``None`` unless there are exactly two coders.
    ``prevalence`` is the share of codings that mark the theme present.
    """

    n_units: int
    n_answers: int
    prevalence: Estimate
    percent_agreement: Estimate
    cohen_kappa: Estimate | None
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate


@dataclass(frozen=True)
class ThemeAgreementReport:
    """Result of :func:`per_theme_agreement`; ``to_dict()`` is strict JSON."""

    unit: str
    coders: list[str]
    themes: list[str]
    n_answers: int  # answers coded by >= 2 coders (the ones analysed)
    n_answers_total: int  # answers coded by anyone
    per_theme: dict[str, AgreementStats]
    overall: AgreementStats
    krippendorff_alpha_masi: Estimate  # alpha on the set of themes per answer
    confidence: float
    n_resamples: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_N_FEATURES = 11  # see _theme_features


def _theme_features(present: np.ndarray, coded: np.ndarray, two_coders: bool) -> np.ndarray:
    """Per answer x theme additive features (units x themes x _N_FEATURES).

    present: coders x units x themes bool (False where not coded);
    coded: coders x units bool.
    """
    m = coded.sum(axis=0).astype(float)[:, None]  # units x 1
    k = present.sum(axis=0).astype(float)  # units x themes
    m_b = np.broadcast_to(m, k.shape)
    pairs = m_b * (m_b - 1.0)
    feats = np.zeros((*k.shape, _N_FEATURES))
    feats[..., 0] = 1.0  # unit count
    feats[..., 1] = m_b  # codings
    feats[..., 2] = k  # present codings
    feats[..., 3] = (k * (k - 1.0) + (m_b - k) * (m_b - k - 1.0)) / pairs  # pairwise agreement
    feats[..., 4] = k * (m_b - k) / (m_b - 1.0)  # half of alpha's observed disagreement
    if two_coders:
        a, b = present[0], present[1]
        feats[..., 5] = a & b
        feats[..., 6] = a & ~b
        feats[..., 7] = ~a & b
        feats[..., 8] = ~a & ~b
    return feats


def _stats_from_feature_sums(s: np.ndarray) -> dict[str, np.ndarray]:
    """Agreement statistics from summed features (any leading axes)."""
    units, codings, k = s[..., 0], s[..., 1], s[..., 2]
    agree, dis = s[..., 3], s[..., 4]
    out: dict[str, np.ndarray] = {}
    out["prevalence"] = _safe_div(k, codings)
    pa = _safe_div(agree, units)
    out["percent_agreement"] = pa
    p = out["prevalence"]
    p_e = p * p + (1.0 - p) * (1.0 - p)
    out["fleiss_kappa"] = _safe_div(pa - p_e, np.where(np.isnan(p_e), 0.0, 1.0 - p_e))
    n1 = k
    n0 = codings - k
    with np.errstate(invalid="ignore"):
        out["krippendorff_alpha"] = 1.0 - _safe_div((codings - 1.0) * dis, n0 * n1)
    t11, t10, t01, t00 = s[..., 5], s[..., 6], s[..., 7], s[..., 8]
    tot = t11 + t10 + t01 + t00
    p_o = _safe_div(t11 + t00, tot)
    p_e2 = _safe_div((t11 + t10) * (t11 + t01) + (t01 + t00) * (t10 + t00), tot * tot)
    out["cohen_kappa"] = _safe_div(p_o - p_e2, np.where(np.isnan(p_e2), 0.0, 1.0 - p_e2))
    return out


def _normalise_codings(
    codings: Mapping[Any, Mapping[Any, Iterable[str] | None]]
    | Sequence[Sequence[Iterable[str] | None]],
) -> tuple[list[str], list[list[frozenset[str] | None]]]:
    if isinstance(codings, Mapping):
        coders = [str(c) for c in codings]
        answer_ids: set[Any] = set()
        for per_answer in codings.values():
            answer_ids.update(per_answer)
        try:
            answers = sorted(answer_ids)
        except TypeError:
            answers = sorted(answer_ids, key=repr)
        rows: list[list[frozenset[str] | None]] = []
        for per_answer in codings.values():
            row: list[frozenset[str] | None] = []
            for a in answers:
                s = per_answer.get(a)
                row.append(None if s is None else _as_theme_set(s))
            rows.append(row)
        return coders, rows
    rows = [[None if s is None else _as_theme_set(s) for s in r] for r in codings]
    if rows and any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("every coder must have the same number of units")
    return [f"coder_{i}" for i in range(len(rows))], rows


def _as_theme_set(s: Iterable[str]) -> frozenset[str]:
    if isinstance(s, str):
        raise TypeError("each coding must be a collection of themes, not a string")
    return frozenset(s)


def per_theme_agreement(
    codings: Mapping[Any, Mapping[Any, Iterable[str] | None]]
    | Sequence[Sequence[Iterable[str] | None]],
    themes: Sequence[str] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ThemeAgreementReport:
    """Agreement per theme and overall on the unit *answer x theme* (present/absent).

    ``codings`` is either ``{coder: {answer_id: set_of_themes}}`` (an answer a
    coder did not code is simply absent, or ``None``) or a coders x answers
    list of theme sets with ``None`` for not coded. An empty set means the
    coder coded the answer and found no theme. ``themes`` is the codeframe
    (themes nobody used still get a row); default: the sorted themes used.

    Only answers coded by at least two coders are analysed. For each theme
    (and pooled over all answer x theme units for ``overall``) the report
    gives prevalence, percent agreement (pairwise), Cohen's kappa (exactly two
    coders), Fleiss' kappa (generalised to unequal coder counts),
    Krippendorff's alpha (nominal), each with a percentile bootstrap interval
    that resamples answers (one set of resamples shared by all themes), plus
    Krippendorff's alpha with the MASI distance on the full theme set of each
    answer. Undefined statistics (e.g. kappa for a theme nobody used) are
    ``None``.
    """
    _z(confidence)
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    coders, rows = _normalise_codings(codings)
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    used = sorted({t for r in rows for s in r if s is not None for t in s})
    theme_list = list(themes) if themes is not None else used
    if len(set(theme_list)) != len(theme_list):
        raise ValueError("themes must be unique")
    t_index = {t: i for i, t in enumerate(theme_list)}
    notes: list[str] = []
    unknown = sorted(set(used) - set(t_index))
    if unknown:
        notes.append(f"ignored codings with themes outside the codeframe: {unknown}")

    n_coders = len(coders)
    n_total_units = len(rows[0]) if rows else 0
    coded = np.array([[s is not None for s in r] for r in rows], dtype=bool).reshape(
        n_coders, n_total_units
    )
    n_answers_total = int(coded.any(axis=0).sum())
    keep = np.flatnonzero(coded.sum(axis=0) >= 2)
    n_ans = keep.size
    n_themes = len(theme_list)
    present = np.zeros((n_coders, n_ans, n_themes), dtype=bool)
    for i, r in enumerate(rows):
        for j, u in enumerate(keep):
            s = r[u]
            if s:
                for t in s:
                    ti = t_index.get(t)
                    if ti is not None:
                        present[i, j, ti] = True
    coded_k = coded[:, keep]
    two = n_coders == 2
    feats = _theme_features(present, coded_k, two)  # n_ans x T x F
    # overall = pooled over themes; append as an extra "theme"
    all_feats = np.concatenate([feats, feats.sum(axis=1, keepdims=True)], axis=1)
    flat = all_feats.reshape(n_ans, (n_themes + 1) * _N_FEATURES)

    point = _stats_from_feature_sums(all_feats.sum(axis=0))
    boot: dict[str, list[np.ndarray]] = {k: [] for k in point}
    if n_ans > 0:
        for w in _resample_weight_chunks(n_ans, n_resamples, seed):
            sums = (w @ flat).reshape(w.shape[0], n_themes + 1, _N_FEATURES)
            for key, v in _stats_from_feature_sums(sums).items():
                boot[key].append(v)
    bounds = {}
    for key in point:
        if n_ans > 0:
            lo, hi = _percentile(np.concatenate(boot[key], axis=0), confidence)
        else:
            lo = hi = np.full(n_themes + 1, np.nan)
        bounds[key] = (lo, hi)

    def est(key: str, j: int) -> Estimate:
        lo, hi = bounds[key]
        return Estimate(
            _clean(float(point[key][j])),
            _clean(float(lo[j])),
            _clean(float(hi[j])),
            n_ans,
            confidence,
        )

    def stats(j: int, n_units: int) -> AgreementStats:
        return AgreementStats(
            n_units=n_units,
            n_answers=n_ans,
            prevalence=est("prevalence", j),
            percent_agreement=est("percent_agreement", j),
            cohen_kappa=est("cohen_kappa", j) if two else None,
            fleiss_kappa=est("fleiss_kappa", j),
            krippendorff_alpha=est("krippendorff_alpha", j),
        )

    per_theme = {t: stats(j, n_ans) for j, t in enumerate(theme_list)}
    overall = stats(n_themes, n_ans * n_themes)

    restricted: list[list[frozenset[str] | None]] = [
        [None if r[u] is None else frozenset(t for t in r[u] or () if t in t_index) for u in keep]
        for r in rows
    ]
    masi = _masi_alpha_ci(restricted, n_resamples, confidence, seed, allow_slow=False)
    if masi.value is None and n_ans > 0:
        notes.append("MASI alpha undefined (no variation in theme sets)")
    elif masi.value is not None and masi.low is None:
        notes.append(
            f"MASI alpha interval not computed: more than {_MASI_DENSE_LIMIT} distinct theme sets"
        )

    return ThemeAgreementReport(
        unit="answer x theme (present/absent)",
        coders=coders,
        themes=theme_list,
        n_answers=n_ans,
        n_answers_total=n_answers_total,
        per_theme=per_theme,
        overall=overall,
        krippendorff_alpha_masi=masi,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        notes=notes,
    )


# Largest number of distinct theme sets for the vectorised MASI bootstrap
# (dense distance matrix); beyond it the generic bootstrap is used.
_MASI_DENSE_LIMIT = 3000


def krippendorff_alpha_masi_ci(
    codings: Sequence[Sequence[Collection[Hashable] | None]],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """MASI alpha with a percentile bootstrap interval (resampling units).

    Vectorised when there are at most 3,000 distinct sets; otherwise each
    resample is recomputed (same draws, slower).
    """
    return _masi_alpha_ci(codings, n_resamples, confidence, seed, allow_slow=True)


def _masi_alpha_ci(
    codings: Sequence[Sequence[Collection[Hashable] | None]],
    n_resamples: int,
    confidence: float,
    seed: int,
    *,
    allow_slow: bool,
) -> Estimate:
    _z(confidence)
    n_units = len(codings[0]) if len(codings) else 0
    if n_units == 0:
        return Estimate(None, None, None, 0, confidence)
    codes, sets, member = _encode_sets(codings)
    value = _alpha_masi_codes(codes, member)
    n_sets = len(sets)
    if n_sets > _MASI_DENSE_LIMIT:
        if not allow_slow:
            return Estimate(_clean(value), None, None, n_units, confidence)
        return bootstrap_ci(
            lambda u: _alpha_masi_codes(u.T, member), codes.T, n_resamples, confidence, seed
        )
    dmat = _masi_matrix(member)
    pairs = _within_unit_pairs(codes, n_sets)
    samples = _weighted_alpha_samples(
        pairs,
        n_units,
        lambda c, k: dmat[c, k],
        lambda nc: ((nc @ dmat) * nc).sum(axis=1),
        n_resamples,
        seed,
    )
    lo, hi = _percentile(samples, confidence)
    return Estimate(_clean(value), _clean(float(lo)), _clean(float(hi)), n_units, confidence)
