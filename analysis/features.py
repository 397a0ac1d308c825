"""Text features for theme coding: word + character n-gram TF-IDF, optional static
embeddings from a package that ships its weights, and similarity helpers.

Everything here runs offline. Embeddings (``analysis.embeddings``) are optional:
used only when asked for and installed, loaded from their own package folders,
never downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

_WS = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\b[xX]{3,}\b")  # "XXXX" redaction marks in some sources


def normalise(text: str) -> str:
    """Lower-case, NFKC, typographic quotes to ASCII, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _PLACEHOLDER.sub(" ", text)
    return _WS.sub(" ", text).strip().lower()


def normalise_all(texts: Iterable[str]) -> list[str]:
    return [normalise(t) for t in texts]


def embed(texts: Sequence[str], backend: str) -> np.ndarray:
    """L2-normalised dense embeddings, float32 (see ``analysis.embeddings``)."""
    from analysis.embeddings import embed as _embed

    return _embed(texts, backend)


def embedding_available(backend: str = "wordllama") -> bool:
    """True when the optional embedding backend is installed and loads offline."""
    from analysis.embeddings import available

    return available(backend)


def resolve_embedding(embedding: str | None) -> str | None:
    """ "auto": wordllama when installed (fast), else None (TF-IDF only); a backend
    name is used as given (and fails at use if not installed)."""
    if embedding == "auto":
        return "wordllama" if embedding_available("wordllama") else None
    if embedding is not None and embedding not in ("wordllama", "minilm"):
        raise ValueError(f"unknown embedding {embedding!r}")
    return embedding


def cap_texts(texts: Sequence[str] | None, limit: int | None, seed: int | None) -> list[str]:
    """At most ``limit`` of ``texts`` (a seeded random sample, in input order)."""
    out = [str(t) for t in texts or []]
    if limit is None or len(out) <= limit:
        return out
    keep = np.sort(np.random.default_rng(seed).choice(len(out), size=limit, replace=False))
    return [out[i] for i in keep]


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities, clipped away from 0 and 1."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


_TOKEN = re.compile(r"\b\w[\w']*\b")


class WordPrefixAnalyzer:
    """Tokens, word n-grams and truncated-word "stems" (first ``prefix_len``
    characters of longer words, marked with ``~``): a cheap stand-in for
    lemmas and char n-grams ("uniforms" and "uniformity" share "unifo~")."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), prefix_len: int = 5) -> None:
        self.ngram_range = ngram_range
        self.prefix_len = prefix_len

    def __call__(self, doc: str) -> list[str]:
        toks = _TOKEN.findall(doc)
        lo, hi = self.ngram_range
        out = list(toks) if lo <= 1 else []
        for n in range(max(lo, 2), hi + 1):
            out += [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        k = self.prefix_len
        if k:
            out += [t[:k] + "~" for t in toks if len(t) > k]
        return out


class TextFeaturizer(TransformerMixin, BaseEstimator):
    """Word n-gram (+ truncated-word stems) TF-IDF and, optionally, character
    n-gram TF-IDF (slower: ~5x), each block L2-normalised and weighted so that
    the dot product of two rows is the weighted mean of the block cosines.

    Fit it on every text available (seed, uncoded answers and theme
    descriptions): it learns only the vocabulary and IDF, never labels.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (3, 5),
        char_weight: float = 0.0,
        prefix_len: int = 5,
        min_df: int = 1,
        max_features: int | None = 200_000,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.prefix_len = prefix_len
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y: Any = None) -> TextFeaturizer:
        # The rows are computed too (cheap once the counts are): models transform the texts
        # they were fitted on next, which then are not tokenised twice.
        self._fit_normalised(normalise_all(texts), transform=True)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_fitted_rows", None)  # a cache, not part of the model
        return state

    def _fit_normalised(self, docs: list[str], transform: bool = False) -> sp.csr_matrix | None:
        word = TfidfVectorizer(
            analyzer=WordPrefixAnalyzer(self.word_ngrams, self.prefix_len),
            min_df=self.min_df,
            sublinear_tf=True,
            max_features=self.max_features,
            dtype=np.float32,
        )
        w = word.fit_transform(docs)
        self.word_ = word
        self.char_ = None
        c = None
        if self.char_weight > 0:
            char = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                min_df=self.min_df,
                sublinear_tf=True,
                max_features=self.max_features,
                dtype=np.float32,
            )
            c = char.fit_transform(docs)
            self.char_ = char
        self.n_word_features_ = len(self.word_.vocabulary_)
        self._fitted_rows: tuple[dict[str, int], sp.csr_matrix] | None = None
        if not transform:
            return None
        out = self._stack(normalize(w), None if c is None else normalize(c))
        # The fitted texts' rows, for transform: a model fitted on a question's answers
        # (the vocabulary and IDF come from all of them) then codes the same answers.
        # Sorted indices: then a row is exactly what transform computes.
        rows = out.copy()
        rows.sort_indices()
        self._fitted_rows = ({d: i for i, d in enumerate(docs)}, rows)
        return out

    def fit_transform(self, texts: Sequence[str], y: Any = None, **fit_params: Any) -> Any:
        """Fit and transform in one pass over the texts."""
        return self._fit_normalised(normalise_all(texts), transform=True)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        docs = normalise_all(texts)
        fitted = getattr(self, "_fitted_rows", None)
        if fitted is None or not docs:
            return self._transform_normalised(docs)
        index, rows = fitted
        found = [index.get(d, -1) for d in docs]
        missing = [k for k, i in enumerate(found) if i < 0]
        if not missing:
            return rows[found]
        new = self._transform_normalised([docs[k] for k in missing])
        have = [k for k, i in enumerate(found) if i >= 0]
        stacked = sp.vstack([rows[[found[k] for k in have]], new], format="csr")
        order = np.empty(len(docs), dtype=np.int64)
        order[have] = np.arange(len(have))
        order[missing] = len(have) + np.arange(len(missing))
        return stacked[order]

    def _transform_normalised(self, docs: list[str]) -> sp.csr_matrix:
        return self._combine(normalize(self.word_.transform(docs)), docs)

    def _combine(self, w: sp.spmatrix, docs: list[str]) -> sp.csr_matrix:
        c = None if self.char_ is None else normalize(self.char_.transform(docs))
        return self._stack(w, c)

    def _stack(self, w: sp.spmatrix, c: sp.spmatrix | None) -> sp.csr_matrix:
        if c is None:
            return sp.csr_matrix(w)
        a = float(np.sqrt(1.0 - self.char_weight))
        b = float(np.sqrt(self.char_weight))
        return sp.hstack([w * a, c * b], format="csr")

    def feature_names(self) -> np.ndarray:
        names = list(self.word_.get_feature_names_out())
        if self.char_ is not None:
            names += [f"[char]{n}" for n in self.char_.get_feature_names_out()]
        return np.asarray(names, dtype=object)


def cosine(a: sp.spmatrix | np.ndarray, b: sp.spmatrix | np.ndarray) -> np.ndarray:
    """Dense cosine matrix between L2-normalised rows of ``a`` and ``b``."""
    out = a @ b.T
    if sp.issparse(out):
        out = out.toarray()
    return np.asarray(out, dtype=np.float32)
