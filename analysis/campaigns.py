"""Near-duplicate detection of organised text campaigns.

An organised campaign is many responses that are one template letter with small
edits: a changed greeting or sign-off, a name, a typo, a deleted sentence,
paragraphs in another order, or a sentence of the respondent's own. The
:class:`CampaignDetector` groups such responses so that they can be counted and
reported separately (never silently merged or dropped), and :func:`added_text`
extracts the words a respondent added to the template, which are still coded.

Method (near-linear in the number of texts, no dense n x n matrix):

1. Normalise each text (lower case, punctuation to spaces, whitespace
   collapsed) and collapse exact duplicates, which are counted with a weight.
2. Texts shorter than ``min_length`` normalised characters never join a
   campaign. Short generic answers ("I agree.", "No comment", "Yes") are
   identical across thousands of independent respondents; they are not
   organised text, and without this rule they would form the largest
   "campaigns" of every consultation.
3. Character ``shingle_size``-grams of the UTF-8 bytes are hashed with numpy
   (a strided 8-byte window plus a multiply-xorshift mix, no Python loop per
   shingle) into a one-permutation MinHash sketch of ``num_perm`` bins with
   optimal densification (Shrivastava 2017) for empty bins.
4. LSH banding (``bands`` bands of ``num_perm // bands`` rows) proposes
   candidate pairs: texts whose band values coincide are chained in a seeded
   random order, which gives at most ``bands`` edges per text. Candidate edges
   whose estimated Jaccard similarity is at least ``candidate_threshold`` are
   kept and connected components are taken over them (scipy.sparse.csgraph).
5. Chaining guard: single-link components can join two different campaigns
   through a few intermediate texts (two organisations' letters that share a
   paragraph). Each component is therefore checked against its template, the
   count-weighted medoid (by sketch similarity, so a letter sent unchanged by
   many is preferred): only texts whose *exact* Jaccard similarity of shingle
   sets to the template is at least ``threshold`` become members, or, for a
   respondent who kept the letter and added a paragraph of their own, texts
   that contain at least ``containment`` of the template's shingles and are
   still at least ``candidate_threshold`` similar. The rest is re-clustered on
   its own edges, so a second campaign in the same component is found
   separately rather than absorbed or lost.
6. Variants: in a very large campaign, members who made the same heavy edit
   (one sentence replaced by their own) can be closer to each other than to
   the template and come out as a group of their own. Such a group is kept
   (deciding near the threshold would sometimes fold two organisations'
   letters into one) but linked: when its template keeps at least
   ``variant_coverage`` of a larger group's template from the same component,
   sentence by sentence (:func:`template_coverage`), it is marked
   ``variant_of`` that campaign, and ``root_labels_`` merges the two.
7. Groups with at least ``min_members`` texts (duplicates included) are
   campaigns.

The module is a pure library: it imports numpy, scipy and scikit-learn only.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

__all__ = [
    "Campaign",
    "CampaignDetector",
    "added_segments",
    "added_text",
    "edit_similarity",
    "normalise",
    "template_coverage",
]

_U64 = np.uint64
_MASK32 = _U64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_GOLDEN = _U64(0x9E3779B97F4A7C15)
# A group whose template check keeps finding no campaign is given up after this
# many attempts (bounds the work on a large chain of merely similar answers).
_MAX_FAILED_PEELS = 16
# Bytes of concatenated text handled per chunk (bounds the working memory).
_CHUNK_BYTES = 1 << 22

_PUNCT_TO_SPACE = str.maketrans(dict.fromkeys(string.punctuation + "\u2018\u2019\u201c\u201d", " "))
_STRIP = string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014"


def normalise(text: str) -> str:
    """Lower case, ASCII and typographic punctuation to spaces, whitespace collapsed."""
    return " ".join(text.lower().translate(_PUNCT_TO_SPACE).split())


@dataclass
class Campaign:
    """One organised campaign found by :class:`CampaignDetector`.

    ``members`` are indices into the texts given to ``fit`` (sorted), ``template``
    is the raw text of the representative member (the count-weighted medoid,
    which is the most common text when the letter was often sent unchanged),
    ``size`` is the number of members, ``template_index`` the index of the text
    used as template and ``mean_similarity`` the members' mean exact Jaccard
    similarity to it. ``variant_of`` is the index (in ``campaigns_``) of a
    larger campaign whose letter this one's template largely kept
    (``variant_coverage`` of it, sentence by sentence), or None.
    """

    members: list[int]
    template: str
    size: int
    template_index: int = -1
    mean_similarity: float = 1.0
    distinct_texts: int = 1
    variant_of: int | None = None
    variant_coverage: float | None = None


# ---------------------------------------------------------------------------
# Hashing helpers (vectorised)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.sort based; faster than np.unique's hash path)."""
    a = np.sort(a)
    if a.size:
        keep = np.empty(a.size, dtype=bool)
        keep[0] = True
        np.not_equal(a[1:], a[:-1], out=keep[1:])
        a = a[keep]
    return a


def _mix(z: np.ndarray) -> np.ndarray:
    """In-place splitmix64-style finaliser on a uint64 array."""
    z ^= z >> _U64(30)
    z *= _M1
    z ^= z >> _U64(27)
    z *= _M2
    z ^= z >> _U64(31)
    return z


def _encode(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate texts as UTF-8 bytes: (buffer padded by 16 bytes, starts, lengths)."""
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(encoded), dtype=np.int64)
    if len(encoded) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    buf = np.frombuffer(b"".join(encoded) + b"\x00" * 16, dtype=np.uint8)
    return buf, starts, lengths


def _shingle_hashes(texts: Sequence[str], k: int, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every character (byte) k-gram, with the text index of each.

    The k-gram starting at each byte is read as one or two unaligned 8-byte words
    through a strided view of the concatenated text, masked to ``k`` bytes and
    mixed, so there is no Python-level loop over shingles; k-grams that cross
    the end of a text are dropped. Returns ``(hashes, doc)``, both of the total
    number of shingles, grouped by text in order.
    """
    buf, starts, lengths = _encode(texts)
    counts = np.maximum(lengths - k + 1, 0)
    if int(counts.sum()) == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    total = int(lengths.sum())
    words = np.ndarray(shape=(total,), dtype="<u8", buffer=buf, strides=(1,))
    valid = np.ones(total, dtype=bool)
    tail = (starts + lengths)[:, None] - np.arange(1, k, dtype=np.int64)[None, :]
    tail = tail[tail >= np.repeat(starts, k - 1).reshape(-1, k - 1)] if k > 1 else tail[:0]
    valid[tail] = False
    h = words[valid]  # copy into an aligned array
    lo = min(k, 8)
    if lo < 8:
        h &= _U64((1 << (8 * lo)) - 1)
    h ^= seed
    _mix(h)
    if k > 8:
        hi = np.ndarray(shape=(total,), dtype="<u8", buffer=buf, offset=8, strides=(1,))[valid]
        if k < 16:
            hi &= _U64((1 << (8 * (k - 8))) - 1)
        hi ^= _GOLDEN
        h ^= _mix(hi)
        _mix(h)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    return h, doc


def _chunks(lengths: Iterable[int], budget: int = _CHUNK_BYTES) -> list[tuple[int, int]]:
    """Split consecutive items into [start, stop) runs of about ``budget`` bytes."""
    out: list[tuple[int, int]] = []
    start = 0
    acc = 0
    i = -1
    for i, n in enumerate(lengths):
        acc += n + 1
        if acc >= budget:
            out.append((start, i + 1))
            start, acc = i + 1, 0
    if start <= i:
        out.append((start, i + 1))
    return out


def _probe(cols: np.ndarray, attempt: int, seed: np.uint64) -> np.ndarray:
    z = cols.astype(np.uint64) * _U64(0x100000001B3)
    z ^= _U64((attempt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) ^ seed
    return _mix(z)


def _oph_sketch(texts: Sequence[str], k: int, num_bins: int, seed: np.uint64) -> np.ndarray:
    """One-permutation MinHash with optimal densification: uint32 (n, num_bins)."""
    n = len(texts)
    sig = np.full((n, num_bins), _EMPTY, dtype=np.uint32)
    for start, stop in _chunks(len(t) for t in texts):
        h, doc = _shingle_hashes(texts[start:stop], k, seed)
        if h.size == 0:
            continue
        # bin from the top 32 bits (multiply-shift range reduction), value from the low 32
        b = ((h >> _U64(32)) * _U64(num_bins)) >> _U64(32)
        key = doc * num_bins + b.astype(np.int64)
        val = (h & _MASK32).astype(np.uint32)
        # the all-ones value is reserved for "empty"
        np.minimum(val, np.uint32(0xFFFFFFFE), out=val)
        block = sig[start:stop].reshape(-1)
        np.minimum.at(block, key, val)
        sig[start:stop] = block.reshape(stop - start, num_bins)
    # densify: an empty bin copies the value of the bin reached by a seeded probe
    # sequence that depends only on (bin, attempt), so similar texts copy alike.
    empty = sig == _EMPTY
    has_any = ~empty.all(axis=1)
    rows, cols = np.nonzero(empty & has_any[:, None])
    filled = sig.copy()
    attempt = 0
    while rows.size and attempt < 64 * num_bins:
        attempt += 1
        probe = (_probe(cols, attempt, seed) % _U64(num_bins)).astype(np.int64)
        v = sig[rows, probe]
        ok = v != _EMPTY
        filled[rows[ok], cols[ok]] = v[ok]
        rows, cols = rows[~ok], cols[~ok]
    # texts without a single shingle get unique values so that they never collide
    for r in np.flatnonzero(~has_any):
        salt = np.uint32((int(r) * 7919) % (1 << 31))
        filled[r] = (np.arange(num_bins, dtype=np.uint32) * np.uint32(2) + salt) | np.uint32(1)
    return filled


def _band_keys(sig: np.ndarray, bands: int, seed: np.uint64) -> np.ndarray:
    """uint64 key per (text, band): (n, bands)."""
    n, m = sig.shape
    rows = m // bands
    keys = np.empty((n, bands), dtype=np.uint64)
    for b in range(bands):
        h = np.full(n, seed ^ _U64(b + 1), dtype=np.uint64)
        for c in range(b * rows, (b + 1) * rows):
            h ^= sig[:, c].astype(np.uint64)
            h *= _M1
            h ^= h >> _U64(29)
        keys[:, b] = h
    return keys


def _candidate_edges(keys: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Texts sharing a band key are chained in a random order: (E, 2) int64, i < j."""
    n, bands = keys.shape
    parts = []
    for b in range(bands):
        perm = rng.permutation(n)
        kb = keys[perm, b]
        order = np.argsort(kb, kind="stable")
        ks = kb[order]
        same = np.flatnonzero(ks[1:] == ks[:-1])
        if same.size:
            ids = perm[order]
            parts.append(np.stack([ids[same], ids[same + 1]], axis=1))
    if not parts:
        return np.empty((0, 2), dtype=np.int64)
    e = np.concatenate(parts).astype(np.int64)
    e.sort(axis=1)
    code = _sorted_unique(e[:, 0] * n + e[:, 1])
    return np.stack([code // n, code % n], axis=1)


def _estimated_similarity(sig: np.ndarray, edges: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    out = np.empty(len(edges), dtype=np.float64)
    for s in range(0, len(edges), block):
        e = edges[s : s + block]
        out[s : s + block] = (sig[e[:, 0]] == sig[e[:, 1]]).mean(axis=1)
    return out


def _shingle_sets(
    texts: Sequence[str], k: int, seed: np.uint64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact shingle sets: sorted distinct 32-bit shingle hashes per text, CSR style.

    Returns ``(values, offsets, sizes)``: the set of text ``i`` is
    ``values[offsets[i]:offsets[i] + sizes[i]]``. Texts are handled in blocks of similar
    length, each block as a padded 2-D array sorted along its rows (much faster
    than one global sort). Two distinct shingles of a pair of letters share a
    32-bit hash with probability about 1e-4, a negligible effect on a Jaccard
    similarity.
    """
    n = len(texts)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    by_length = np.argsort(lengths, kind="stable")
    blocks: list[np.ndarray] = []
    sizes = np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n, dtype=np.int64)
    done = 0
    sorted_lengths = lengths[by_length].tolist()
    start = 0
    budget = 1 << 22
    while start < n:
        stop = start + 1
        while stop < n and (stop + 1 - start) * (sorted_lengths[stop] + 1) <= budget:
            stop += 1
        idx = by_length[start:stop]
        h, doc = _shingle_hashes([texts[i] for i in idx], k, seed)
        counts = np.bincount(doc, minlength=idx.size)
        width = max(1, int(counts.max()) if counts.size else 1)
        grid = np.full((idx.size, width), _EMPTY, dtype=np.uint32)
        first = np.zeros(idx.size, dtype=np.int64)
        np.cumsum(counts[:-1], out=first[1:])
        flat = doc * width + (np.arange(doc.size) - first[doc])
        grid.reshape(-1)[flat] = (h >> _U64(32)).astype(np.uint32)
        grid.sort(axis=1)
        keep = grid != _EMPTY
        keep[:, 1:] &= grid[:, 1:] != grid[:, :-1]
        cnt = keep.sum(axis=1)
        sizes[idx] = cnt
        offsets[idx] = done + np.cumsum(cnt) - cnt
        done += int(cnt.sum())
        blocks.append(grid[keep])
        start = stop
    values = np.concatenate(blocks) if blocks else np.empty(0, dtype=np.uint32)
    return values, offsets, sizes


def _overlap_with(
    sets: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray, ref: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Exact |A ∩ R| and |A| for each set ``rows`` against set ``ref``; and |R|."""
    values, offsets, sizes = sets
    r = values[offsets[ref] : offsets[ref] + sizes[ref]]
    lens = sizes[rows]
    total = int(lens.sum())
    if total == 0 or r.size == 0:
        return np.zeros(rows.size), lens.astype(np.float64), int(r.size)
    ends = np.cumsum(lens)
    idx = np.arange(total, dtype=np.int64) + np.repeat(offsets[rows] - (ends - lens), lens)
    v = values[idx]
    # a 2**20-bit filter on the low bits first, the exact test on its few hits
    table = np.zeros(1 << 20, dtype=bool)
    table[r & np.uint32(0xFFFFF)] = True
    maybe = np.flatnonzero(table[v & np.uint32(0xFFFFF)])
    hit = np.zeros(total, dtype=bool)
    if maybe.size:
        at = np.minimum(np.searchsorted(r, v[maybe]), r.size - 1)
        hit[maybe] = r[at] == v[maybe]
    inter = np.bincount(np.repeat(np.arange(rows.size), lens), weights=hit, minlength=rows.size)
    return inter, lens.astype(np.float64), int(r.size)


# ---------------------------------------------------------------------------
# Estimator


class CampaignDetector(BaseEstimator):
    """Find organised text campaigns (clusters of near-identical responses).

    Parameters
    ----------
    shingle_size : int, default 5
        Length of the character shingles (bytes of the normalised UTF-8 text), 1-16.
    threshold : float, default 0.6
        Minimum exact Jaccard similarity of a member's shingle set to the
        campaign template.
    min_members : int, default 5
        Minimum number of texts (exact duplicates included) of a campaign.
    min_length : int, default 80
        Texts with fewer normalised characters never join a campaign: short
        generic answers ("I agree.", "No comment") are identical by chance,
        not by organisation.
    num_perm : int, default 128
        Number of bins of the one-permutation MinHash sketch.
    bands : int, default 32
        LSH bands; ``num_perm // bands`` rows per band. With 32 x 4 a pair of
        Jaccard 0.45 becomes a candidate with probability 0.74, 0.6 with 0.99.
    candidate_threshold : float or None, default None
        Minimum estimated (sketch) similarity of a candidate edge; None means
        ``0.75 * threshold``. Lower than ``threshold`` because the sketch
        estimate is noisy and members reach each other through other members;
        the exact template check decides membership.
    containment : float or None, default 0.8
        A text that contains at least this fraction of the template's shingles
        and whose similarity is at least the candidate threshold is also a
        member (the whole letter kept, with a long addition of their own). None
        disables the rule.
    variant_coverage : float or None, default 0.7
        A campaign found beside a larger one in the same candidate component
        is marked ``variant_of`` it when its template keeps at least this share
        of the larger one's template, sentence by sentence (typically members
        who all replaced the same sentence). Labels are not changed;
        ``root_labels_`` applies the links. None links nothing.
    medoid_sample : int, default 300
        Largest number of distinct texts compared all-pairs to choose a
        template; larger groups use a seeded, count-weighted sample.
    random_state : int, RandomState or None, default 0
        Seeds the hash functions and the sampling; with an int, the result is
        a deterministic function of the texts.

    Attributes
    ----------
    labels_ : ndarray of shape (n_texts,)
        Campaign index of each text, -1 if it belongs to no campaign.
        Campaigns are ordered by size (largest first).
    campaigns_ : list of Campaign
    similarity_ : ndarray of shape (n_texts,)
        Exact Jaccard similarity of the shingle sets to the campaign template
        (0 outside campaigns); lower than ``threshold`` for members admitted by
        the containment rule.
    root_labels_ : ndarray of shape (n_texts,)
        ``labels_`` with each variant campaign replaced by the campaign it is
        a variant of.
    n_texts_ : int
    """

    def __init__(
        self,
        shingle_size: int = 5,
        threshold: float = 0.6,
        min_members: int = 5,
        min_length: int = 80,
        num_perm: int = 128,
        bands: int = 32,
        candidate_threshold: float | None = None,
        containment: float | None = 0.8,
        variant_coverage: float | None = 0.7,
        medoid_sample: int = 300,
        random_state: int | np.random.RandomState | None = 0,
    ) -> None:
        self.shingle_size = shingle_size
        self.threshold = threshold
        self.min_members = min_members
        self.min_length = min_length
        self.num_perm = num_perm
        self.bands = bands
        self.candidate_threshold = candidate_threshold
        self.containment = containment
        self.variant_coverage = variant_coverage
        self.medoid_sample = medoid_sample
        self.random_state = random_state

    # -- validation -------------------------------------------------------

    def _check_params(self) -> None:
        if not 1 <= int(self.shingle_size) <= 16:
            raise ValueError(f"shingle_size must be in 1..16, got {self.shingle_size!r}")
        if not 0.0 < float(self.threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if int(self.min_members) < 2:
            raise ValueError(f"min_members must be at least 2, got {self.min_members!r}")
        if int(self.min_length) < 0:
            raise ValueError(f"min_length must be >= 0, got {self.min_length!r}")
        if int(self.bands) < 1 or int(self.num_perm) < int(self.bands):
            raise ValueError("need 1 <= bands <= num_perm")
        if self.candidate_threshold is not None and not 0.0 <= self.candidate_threshold <= 1.0:
            raise ValueError("candidate_threshold must be in [0, 1]")
        if self.containment is not None and not 0.0 < self.containment <= 1.0:
            raise ValueError("containment must be in (0, 1]")
        if self.variant_coverage is not None and not 0.0 < self.variant_coverage <= 1.0:
            raise ValueError("variant_coverage must be in (0, 1]")
        if int(self.medoid_sample) < 2:
            raise ValueError("medoid_sample must be at least 2")

    @staticmethod
    def _texts(X: Iterable[str]) -> list[str]:
        if isinstance(X, str):
            raise TypeError("expected a sequence of texts, got a single string")
        texts = []
        for t in X:
            if t is None or (isinstance(t, float) and np.isnan(t)):
                texts.append("")
            elif isinstance(t, str):
                texts.append(t)
            else:
                raise TypeError(f"expected str texts, got {type(t).__name__}")
        return texts

    # -- fitting ----------------------------------------------------------

    def fit(self, X: Iterable[str], y: object = None) -> CampaignDetector:
        """Find the campaigns among the texts ``X``; returns self."""
        self._check_params()
        texts = self._texts(X)
        n = len(texts)
        rng = check_random_state(self.random_state)
        seed = _U64(int(rng.randint(0, 2**31 - 1)) * 2654435761 + 1)
        k = int(self.shingle_size)

        # 1. normalise, collapse exact duplicates
        index: dict[str, int] = {}
        inverse = np.empty(n, dtype=np.int64)
        first: list[int] = []  # first text of each distinct normalised text
        for i, t in enumerate(texts):
            j = index.setdefault(normalise(t), len(index))
            if j == len(first):
                first.append(i)
            inverse[i] = j
        uniq = list(index)
        first_of = np.asarray(first, dtype=np.int64)
        counts = np.bincount(inverse, minlength=len(uniq)).astype(np.int64)

        # 2. only texts of min_length or more
        elig = np.flatnonzero(
            np.fromiter(
                (len(s) >= max(int(self.min_length), 1) for s in uniq), dtype=bool, count=len(uniq)
            )
        )
        elig_texts = [uniq[i] for i in elig]
        w = counts[elig]
        m = len(elig_texts)

        groups: list[np.ndarray] = []  # positions into elig
        sims_of: dict[int, float] = {}
        templates: list[int] = []
        origins: list[int] = []  # the candidate component each group came from
        if m:
            # 3-4. sketches, LSH candidates, verified edges, components
            sig = _oph_sketch(elig_texts, k, int(self.num_perm), seed)
            nb = int(self.bands)
            keys = _band_keys(sig[:, : (sig.shape[1] // nb) * nb], nb, seed)
            edges = _candidate_edges(keys, rng)
            cand = (
                0.75 * float(self.threshold)
                if self.candidate_threshold is None
                else float(self.candidate_threshold)
            )
            # four standard deviations of the sketch estimate at similarity 0.5
            margin = 4.0 * float(np.sqrt(0.25 / sig.shape[1]))
            if len(edges):
                edges = edges[_estimated_similarity(sig, edges) >= cand]
            adj = sp.coo_matrix(
                (np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(m, m)
            ).tocsr()
            adj = (adj + adj.T).tocsr()
            _, comp = connected_components(adj, directed=False)
            weight = np.bincount(comp, weights=w)
            big = np.flatnonzero(weight >= self.min_members)
            if big.size:
                # 5. exact template check on the candidate groups only
                in_big = np.isin(comp, big)
                pos = np.flatnonzero(in_big)
                local = np.full(m, -1, dtype=np.int64)
                local[pos] = np.arange(pos.size)
                sets = _shingle_sets([elig_texts[i] for i in pos], k, seed)
                order = np.argsort(comp[pos], kind="stable")
                bounds = np.flatnonzero(np.diff(comp[pos][order])) + 1
                stack = [(pos[g], 0, c) for c, g in enumerate(np.split(order, bounds))]
                stack.reverse()
                while stack:
                    members, failures, origin = stack.pop()
                    if w[members].sum() < self.min_members or failures > _MAX_FAILED_PEELS:
                        continue
                    medoid = self._medoid(sig[members], w[members], rng)
                    # exact similarity only where the sketch leaves it possible (> 4 sd)
                    est = (sig[members] == sig[members[medoid]]).mean(axis=1)
                    near = np.flatnonzero(est >= cand - margin)
                    inter, size, tsize = _overlap_with(
                        sets, local[members[near]], local[members[medoid]]
                    )
                    union = size + tsize - inter
                    sim = np.zeros(members.size)
                    sim[near] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
                    inside = sim >= self.threshold
                    if self.containment is not None and tsize > 0:
                        inside[near] |= (inter / tsize >= self.containment) & (sim[near] >= cand)
                    inside[medoid] = True
                    accepted = members[inside]
                    found = w[accepted].sum() >= self.min_members
                    if found:
                        groups.append(accepted)
                        templates.append(int(members[medoid]))
                        origins.append(origin)
                        for p, s in zip(accepted.tolist(), sim[inside].tolist(), strict=True):
                            sims_of[p] = s
                    rest = members[~inside]
                    if rest.size and w[rest].sum() >= self.min_members:
                        sub = adj[rest][:, rest]
                        nc, lab = connected_components(sub, directed=False)
                        sub_weight = np.bincount(lab, weights=w[rest], minlength=nc)
                        for c in np.flatnonzero(sub_weight >= self.min_members)[::-1]:
                            stack.append((rest[lab == c], 0 if found else failures + 1, origin))

        # 6. map back to the original texts, largest campaign first
        elig_label = np.full(m, -1, dtype=np.int64)
        sizes = [int(w[g].sum()) for g in groups]
        ranked = sorted(
            range(len(groups)),
            key=lambda g: (-sizes[g], int(first_of[elig[groups[g]]].min())),
        )
        labels_u = np.full(len(uniq), -1, dtype=np.int64)
        sim_u = np.zeros(len(uniq), dtype=np.float64)
        for new, g in enumerate(ranked):
            elig_label[groups[g]] = new
        labels_u[elig] = elig_label
        for p, s in sims_of.items():
            sim_u[elig[p]] = s
        labels = labels_u[inverse]
        similarity = sim_u[inverse]
        member_lists: list[list[int]] = [[] for _ in ranked]
        for i in np.flatnonzero(labels >= 0).tolist():
            member_lists[labels[i]].append(i)
        campaigns = []
        for new, g in enumerate(ranked):
            t_orig = int(first_of[elig[templates[g]]])
            mem = member_lists[new]
            campaigns.append(
                Campaign(
                    members=mem,
                    template=texts[t_orig],
                    size=len(mem),
                    template_index=t_orig,
                    mean_similarity=float(similarity[mem].mean()),
                    distinct_texts=len(groups[g]),
                )
            )
        if self.variant_coverage is not None:
            self._link_variants(campaigns, [origins[g] for g in ranked])
        # index len(campaigns) stands for -1 (no campaign)
        root = np.array(
            [c.variant_of if c.variant_of is not None else i for i, c in enumerate(campaigns)]
            + [-1],
            dtype=np.int64,
        )
        self.root_labels_ = root[np.where(labels >= 0, labels, len(campaigns))]
        self.labels_ = labels
        self.campaigns_ = campaigns
        self.similarity_ = similarity
        self.n_texts_ = n
        return self

    def fit_predict(self, X: Iterable[str], y: object = None) -> np.ndarray:
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    # -- helpers ----------------------------------------------------------

    def _link_variants(self, campaigns: list[Campaign], origins: list[int]) -> None:
        """Mark campaigns whose template kept most of a larger one's (same component)."""
        assert self.variant_coverage is not None
        roots: list[int] = []
        for i, c in enumerate(campaigns):  # largest first
            best, into = 0.0, -1
            for r in roots:
                if origins[r] == origins[i]:
                    cov = template_coverage(campaigns[r].template, c.template)
                    if cov > best:
                        best, into = cov, r
            if into >= 0 and best >= self.variant_coverage:
                c.variant_of = into
                c.variant_coverage = round(best, 4)
            else:
                roots.append(i)

    def _medoid(self, sig: np.ndarray, weights: np.ndarray, rng: np.random.RandomState) -> int:
        """Index of the count-weighted medoid under sketch similarity (sampled when large).

        Each candidate scores the count-weighted sum of its estimated Jaccard
        similarity to the others (itself included, so a letter sent unchanged
        by many respondents is preferred).
        """
        s = sig.shape[0]
        if s == 1:
            return 0
        cap = int(self.medoid_sample)
        if s <= cap:
            cand = np.arange(s)
        else:
            p = weights / weights.sum()
            cand = np.sort(rng.choice(s, size=cap, replace=False, p=p))
        sub = sig[cand]
        wc = weights[cand].astype(np.float64)
        score = np.zeros(cand.size)
        step = max(1, (1 << 22) // max(1, cand.size * sub.shape[1]))
        for i in range(0, cand.size, step):
            est = (sub[i : i + step, None, :] == sub[None, :, :]).mean(axis=2)
            score[i : i + step] = est @ wc
        return int(cand[int(np.argmax(score))])


# ---------------------------------------------------------------------------
# Added text and edit similarity

_LINE_SPLIT = re.compile(r"\s*\n\s*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)\]]*\s+(?=\S)")
_TERMINAL = re.compile(r"[.!?;:][\"'\u2019\u201d)\]]*$")


def _word_key(token: str) -> str:
    return token.lower().strip(_STRIP)


@dataclass
class _Unit:
    """A sentence (or a line without sentence punctuation) of a letter."""

    words: list[str]
    keys: list[str]
    line_start: bool
    line_end: bool

    @property
    def terminal(self) -> bool:
        return bool(self.words) and bool(_TERMINAL.search(self.words[-1]))


def _units(text: str) -> list[_Unit]:
    out = []
    for line in _LINE_SPLIT.split(text.strip()):
        parts = [p for p in _SENTENCE_SPLIT.split(line) if p.strip()]
        for j, part in enumerate(parts):
            words = part.split()
            keys = [k for k in (_word_key(w) for w in words) if k]
            if keys:
                out.append(_Unit(words, keys, j == 0, j == len(parts) - 1))
    return out


@lru_cache(maxsize=64)
def _template_sentences(template: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(u.keys) for u in _units(template))


def _inserted_runs(template_keys: Sequence[str], unit: _Unit, min_words: int) -> list[str]:
    """Runs of at least ``min_words`` words inserted into an edited template sentence."""
    m = SequenceMatcher(None, list(template_keys), unit.keys, autojunk=False)
    # keys drop punctuation-only tokens; map key positions back to the words
    word_of = [i for i, w in enumerate(unit.words) if _word_key(w)]
    runs = []
    for tag, _i1, _i2, j1, j2 in m.get_opcodes():
        if tag in ("insert", "replace") and j2 - j1 >= min_words:
            runs.append(" ".join(unit.words[word_of[j1] : word_of[j2 - 1] + 1]))
    return runs


def template_coverage(template: str, text: str, same_sentence: float = 0.8) -> float:
    """Share of the template's words that ``text`` kept, sentence by sentence.

    A template sentence counts as kept when ``text`` has the same sentence
    (word difflib ratio at least ``same_sentence`` on lower-cased words without
    punctuation, anywhere in the text, so typos and reordering do not matter).
    Unlike a shingle similarity it is not lowered by what the respondent added.
    """
    wanted = _template_sentences(template)
    total = sum(len(t) for t in wanted)
    if total == 0:
        return 0.0
    have = _template_sentences(text)
    exact = set(have)
    matchers: list[SequenceMatcher] | None = None
    kept = 0
    for t in wanted:
        if t in exact:
            kept += len(t)
            continue
        if matchers is None:
            matchers = []
            for h in have:
                m = SequenceMatcher(None, autojunk=False)
                m.set_seq2(list(h))
                matchers.append(m)
        for m in matchers:
            m.set_seq1(list(t))
            if (
                m.real_quick_ratio() >= same_sentence
                and m.quick_ratio() >= same_sentence
                and m.ratio() >= same_sentence
            ):
                kept += len(t)
                break
    return kept / total


def added_segments(
    template: str, text: str, min_words: int = 3, same_sentence: float = 0.6
) -> list[str]:
    """The respondent's own words in ``text``, as runs in order of appearance.

    A sentence-level diff: ``text`` and ``template`` are split into sentences
    (and lines). A sentence of ``text`` that matches a template sentence (word
    difflib ratio at least ``same_sentence``, on lower-cased words without
    punctuation, anywhere in the template, so reordered paragraphs, typos and
    deleted sentences add nothing) contributes only the runs of at least
    ``min_words`` words inserted into it. Any other sentence is the
    respondent's own; consecutive own sentences form one run. Short lines
    without sentence punctuation before the first or after the last sentence
    (a greeting, a sign-off, a name) and runs under ``min_words`` words are
    left out. The words are returned as the respondent wrote them.
    """
    sentences = _template_sentences(template)
    exact = set(sentences)
    matchers: list[SequenceMatcher] | None = None
    units = _units(text)
    terminal = [i for i, u in enumerate(units) if u.terminal]
    first, last = (terminal[0], terminal[-1]) if terminal else (len(units), -1)
    segments: list[list[str]] = []
    open_run = False
    for i, u in enumerate(units):
        key = tuple(u.keys)
        own: list[str] = []
        whole = False
        if key not in exact:
            if matchers is None:
                matchers = []
                for t in sentences:
                    m = SequenceMatcher(None, autojunk=False)
                    m.set_seq2(list(t))
                    matchers.append(m)
            best, best_k = 0.0, -1
            for k, m in enumerate(matchers):
                m.set_seq1(u.keys)
                if m.real_quick_ratio() <= best or m.quick_ratio() <= best:
                    continue
                r = m.ratio()
                if r > best:
                    best, best_k = r, k
            if best >= same_sentence:
                own = _inserted_runs(sentences[best_k], u, min_words)
            else:
                salutation = (
                    (i < first or i > last)
                    and u.line_start
                    and u.line_end
                    and not u.terminal
                    and len(u.keys) <= 6
                )
                whole = not salutation
        if whole:
            if open_run:
                segments[-1].append(" ".join(u.words))
            else:
                segments.append([" ".join(u.words)])
            open_run = True
        else:
            segments.extend([r] for r in own)
            open_run = False
    out = [" ".join(seg) for seg in segments]
    return [o for o in out if sum(1 for w in o.split() if _word_key(w)) >= min_words]


def added_text(template: str, text: str) -> str:
    """The parts a respondent added to the campaign template, one run per line.

    See :func:`added_segments`. Returns "" when the text is the template with
    only small edits (typos, greeting, sign-off, deletions, reordering).
    """
    return "\n".join(added_segments(template, text))


def edit_similarity(a: str, b: str) -> float:
    """Word-level difflib ratio of the normalised texts, in [0, 1] (1 for equal texts).

    Quadratic in the worst case: meant for pairs (a member and its template),
    not for clustering.
    """
    ta = normalise(a).split()
    tb = normalise(b).split()
    if not ta and not tb:
        return 1.0
    return SequenceMatcher(None, ta, tb, autojunk=False).ratio()
