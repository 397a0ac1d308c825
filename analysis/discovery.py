"""Theme discovery: candidate themes for a proposal's answers (TF-IDF + NMF).

:class:`ThemeDiscoverer` is a scikit-learn style estimator. ``fit(texts)``:

1. Tokenises the texts with the project's cached spaCy pipeline
   (:func:`analysis.text.iter_docs`, streamed with ``nlp.pipe``), drops stop
   words, numbers, punctuation and redaction placeholders (``[EMAIL]``,
   ``[NAME]``) and reduces each word to its lemma: spaCy's lemma when the
   pipeline has a lemmatizer (a trained pipeline or ``spacy-lookups-data``
   installed), otherwise a small rule-based English inflection stripper
   (plurals, ``-ing``/``-ed``), so "schools" and "school" count as one term.
   Nothing is downloaded.
2. Builds a sublinear TF-IDF matrix of lemma unigrams and bigrams
   (``min_df``/``max_df`` filter rare and ubiquitous terms).
3. Factorises it with NMF (``init="nndsvda"``, seeded): ``n_themes`` topics,
   or with ``n_themes="auto"`` the number in ``[min_themes, max_themes]`` whose
   dominant-topic clustering has the best mean silhouette (cosine, on a seeded
   sample of at most ``selection_sample`` answers; ``k_scores_`` keeps the
   scores). On generated answers with six planted topics it picks six.
4. Gives each answer its dominant topic (``labels_``; -1 when the answer has
   no known term), and describes each topic as a :class:`CandidateTheme`:
   top terms (largest NMF weights, a bigram's words not repeated as separate
   terms, each lemma shown as its most common written form), a draft label
   made of the leading terms, its size and share, and representative answers
   (members whose topic mixture is most concentrated on it, longer answers
   preferred on ties). Topics with fewer than ``min_theme_size`` answers are
   dropped; themes are ordered by size.

The same texts and ``random_state`` give the same themes (NMF with nndsvda
initialisation is deterministic; ties are broken by index).

The module is a pure library: numpy, scikit-learn and spaCy only.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score

from analysis.text import blank_pipeline, iter_docs

__all__ = ["CandidateTheme", "ThemeDiscoverer", "lemmatise", "rule_lemma"]

_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_ ]*\]")
# Words that carry no theme in consultation answers, beyond spaCy's stop words.
_EXTRA_STOP = frozenset(
    {
        "think",
        "proposal",
        "proposals",
        "agree",
        "disagree",
        "believe",
        "feel",
        "people",
        "thing",
        "things",
        "really",
        "way",
        "also",
        "would",
        "could",
        "should",
        "must",
        "get",
        "make",
        "need",
        "like",
        "just",
        "yes",
        "no",
        "dear",
        "sir",
        "madam",
        "regards",
        "sincerely",
        "lot",
        "lots",
    }
)
_KEEP_S = ("ss", "us", "is", "ous", "sis", "ics")


def rule_lemma(word: str) -> str:
    """A rule-based English lemma for a lower-case word (used without a lemmatizer):
    regular plurals and ``-ing``/``-ed`` forms; leaves short or irregular words alone."""
    w = word
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes", "zes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(_KEEP_S):
        return w[:-1]
    if w.endswith("ing") and len(w) > 5:
        stem = w[:-3]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            stem = stem[:-1]
        return stem
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ed") and len(w) > 4:
        stem = w[:-2]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            stem = stem[:-1]
        return stem
    return w


def _has_lemmatizer() -> bool:
    return "lemmatizer" in blank_pipeline().pipe_names


def lemmatise(
    texts: Iterable[str],
    *,
    batch_size: int = 256,
    surfaces: dict[str, Counter[str]] | None = None,
) -> list[list[str]]:
    """Content-word lemmas of each text (stop words, numbers, punctuation and redaction
    placeholders removed), through the cached spaCy pipeline. With `surfaces`, counts the
    lower-case words seen for each lemma (to show terms as words people wrote)."""
    use_spacy_lemma = _has_lemmatizer()
    cleaned = (_PLACEHOLDER.sub(" ", t or "") for t in texts)
    out: list[list[str]] = []
    # Without a lemmatizer only the tokenizer is needed (streamed all the same).
    docs = (
        iter_docs(cleaned, batch_size=batch_size)
        if use_spacy_lemma
        else blank_pipeline().tokenizer.pipe(cleaned, batch_size=batch_size)  # type: ignore[union-attr]
    )
    for doc in docs:
        words: list[str] = []
        for token in doc:
            if not token.is_alpha or token.is_stop or len(token) < 3:
                continue
            lower = token.lower_
            if lower in _EXTRA_STOP:
                continue
            lemma = token.lemma_.lower() if use_spacy_lemma and token.lemma_ else rule_lemma(lower)
            if lemma in _EXTRA_STOP or len(lemma) < 3:
                continue
            words.append(lemma)
            if surfaces is not None:
                surfaces.setdefault(lemma, Counter())[lower] += 1
        out.append(words)
    return out


def _analyzer(ngram_range: tuple[int, int]) -> Any:
    lo, hi = ngram_range

    def analyse(words: list[str]) -> list[str]:
        grams: list[str] = list(words) if lo <= 1 else []
        for n in range(max(lo, 2), hi + 1):
            grams += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        return grams

    return analyse


@dataclass
class CandidateTheme:
    """One suggested theme: ``members`` and ``representatives`` index the fitted texts."""

    index: int
    label: str
    top_terms: list[str]
    size: int
    share: float
    representatives: list[int]
    members: list[int] = field(default_factory=list, repr=False)
    term_weights: list[float] = field(default_factory=list, repr=False)


def _top_terms(weights: np.ndarray, names: np.ndarray, n: int) -> tuple[list[str], list[float]]:
    """The n heaviest terms; a unigram already inside a chosen bigram is skipped."""
    order = np.lexsort((np.arange(weights.size), -weights))
    terms: list[str] = []
    values: list[float] = []
    covered: set[str] = set()
    for i in order:
        if weights[i] <= 0 or len(terms) >= n:
            break
        term = str(names[i])
        parts = term.split()
        if len(parts) == 1 and term in covered:
            continue
        if len(parts) > 1 and all(p in terms for p in parts):
            # The bigram replaces its words already listed.
            for p in set(parts):
                idx = terms.index(p)
                terms.pop(idx)
                values.pop(idx)
        terms.append(term)
        values.append(float(weights[i]))
        covered.update(parts)
    return terms, values


def draft_label(terms: Sequence[str], words: int = 3) -> str:
    """A draft label from the leading terms: "School uniform, bullying, cost"."""
    chosen: list[str] = []
    used: set[str] = set()
    for term in terms:
        parts = term.split()
        if any(p in used for p in parts):
            continue
        chosen.append(term)
        used.update(parts)
        if sum(len(c.split()) for c in chosen) >= words:
            break
    label = ", ".join(chosen) if chosen else "Other"
    return label[:1].upper() + label[1:]


class ThemeDiscoverer(BaseEstimator):
    """Candidate themes of a set of answers by TF-IDF + NMF over spaCy lemmas.

    Parameters
    ----------
    n_themes : int or "auto", default "auto"
        Number of NMF topics. "auto": chosen in ``[min_themes, max_themes]`` by
        the silhouette of the answers' dominant topics (see the module doc).
    min_themes, max_themes : int, default 2 and 12
    ngram_range : (int, int), default (1, 2)
        Lemma n-grams used as terms.
    min_df : int or float, default 2
    max_df : float, default 0.6
    n_top_terms : int, default 8
    n_representatives : int, default 3
    min_theme_size : int, default 2
        Topics that are the dominant topic of fewer answers are not suggested.
    alpha : float, default 0.0
        NMF regularisation (``alpha_W``/``alpha_H``, l1_ratio 0.5).
    max_iter : int, default 400
    selection_sample : int, default 2000
        Answers (a seeded sample) used to choose the number of themes.
    selection_tolerance : float, default 0.0
        "auto" takes the fewest themes whose silhouette is within this fraction of
        the best one's (0: the best). Raising it to 0.2 gave fewer candidates but
        lower purity and recall on ArgKP train and the demo, and no better match.
    random_state : int or None, default 0

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
    feature_names_ : ndarray of str
    components_ : ndarray (n_topics, n_terms), the NMF term weights
    doc_topic_ : ndarray (n_texts, n_topics), each text's topic mixture
    labels_ : ndarray (n_texts,), index into ``themes_`` or -1
    themes_ : list of CandidateTheme, largest first
    n_texts_ : int
    k_scores_ : dict {number of themes: silhouette}, empty unless chosen "auto"
    """

    def __init__(
        self,
        n_themes: int | str = "auto",
        *,
        min_themes: int = 2,
        max_themes: int = 12,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 2,
        max_df: float = 0.6,
        n_top_terms: int = 8,
        n_representatives: int = 3,
        min_theme_size: int = 2,
        alpha: float = 0.0,
        max_iter: int = 400,
        selection_sample: int = 2000,
        selection_tolerance: float = 0.0,
        random_state: int | None = 0,
    ) -> None:
        self.n_themes = n_themes
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.n_top_terms = n_top_terms
        self.n_representatives = n_representatives
        self.min_theme_size = min_theme_size
        self.alpha = alpha
        self.max_iter = max_iter
        self.selection_sample = selection_sample
        self.selection_tolerance = selection_tolerance
        self.random_state = random_state

    def _nmf(self, k: int) -> NMF:
        return NMF(
            n_components=k,
            init="nndsvda",
            max_iter=self.max_iter,
            random_state=self.random_state,
            alpha_W=self.alpha,
            alpha_H="same",
            l1_ratio=0.5,
        )

    def _k(self, tfidf: Any) -> int:
        n, n_terms = tfidf.shape
        limit = max(1, min(n - 1, n_terms))
        if not isinstance(self.n_themes, str):
            k = int(self.n_themes)
            if k < 1:
                raise ValueError("n_themes must be at least 1")
            return max(1, min(k, n, n_terms))
        if self.n_themes != "auto":
            raise ValueError(f"n_themes must be an int or 'auto', not {self.n_themes!r}")
        lo, hi = max(2, self.min_themes), min(self.max_themes, limit)
        if hi < lo:
            return max(1, min(self.min_themes, n, n_terms))
        sample = tfidf
        if n > self.selection_sample:
            rng = np.random.RandomState(self.random_state or 0)
            rows = np.sort(rng.choice(n, size=self.selection_sample, replace=False))
            sample = tfidf[rows]
        for k in range(lo, hi + 1):
            labels = self._nmf(k).fit_transform(sample).argmax(axis=1)
            if len(np.unique(labels)) < 2:
                continue
            score = float(silhouette_score(sample, labels, metric="cosine"))
            self.k_scores_[k] = round(score, 4)
        if not self.k_scores_:
            return lo
        # The fewest themes within `selection_tolerance` of the best score.
        best = max(self.k_scores_.values())
        floor = best - abs(best) * self.selection_tolerance
        return min(k for k, score in self.k_scores_.items() if score >= floor)

    def _vectorizer(self, n: int) -> TfidfVectorizer:
        min_df = self.min_df
        if isinstance(min_df, int) and min_df > n:
            min_df = 1
        return TfidfVectorizer(
            analyzer=_analyzer(self.ngram_range),
            min_df=min_df,
            max_df=self.max_df if n > 2 else 1.0,
            sublinear_tf=True,
            dtype=np.float64,
        )

    def fit(self, X: Iterable[str], y: object = None) -> ThemeDiscoverer:
        texts = [str(t) if t is not None else "" for t in X]
        n = len(texts)
        self.n_texts_ = n
        surfaces: dict[str, Counter[str]] = {}
        words = lemmatise(texts, surfaces=surfaces)
        # Each lemma shown as its most common written form ("waste", not "wast").
        shown = {
            lemma: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            for lemma, c in surfaces.items()
        }
        self.themes_: list[CandidateTheme] = []
        self.labels_ = np.full(n, -1, dtype=np.int64)
        self.k_scores_: dict[int, float] = {}
        vectorizer = self._vectorizer(n)
        try:
            tfidf = vectorizer.fit_transform(words)
        except ValueError:  # no terms at all (empty input, or every word filtered)
            self.vectorizer_ = None
            self.feature_names_ = np.array([], dtype=object)
            self.components_ = np.zeros((0, 0))
            self.doc_topic_ = np.zeros((n, 0))
            return self
        self.vectorizer_ = vectorizer
        names = vectorizer.get_feature_names_out()
        self.feature_names_ = names
        with warnings.catch_warnings():
            # Not converging within max_iter still gives usable (and seeded) topics.
            warnings.simplefilter("ignore", ConvergenceWarning)
            k = self._k(tfidf)
            nmf = self._nmf(k)
            doc_topic = nmf.fit_transform(tfidf)
        self.nmf_ = nmf
        self.components_ = nmf.components_
        self.doc_topic_ = doc_topic
        row_sums = doc_topic.sum(axis=1)
        has_topic = row_sums > 0
        dominant = np.where(has_topic, doc_topic.argmax(axis=1), -1)
        concentration = np.divide(doc_topic.max(axis=1), row_sums, out=np.zeros(n), where=has_topic)
        lengths = np.array([len(w) for w in words])
        sizes = np.bincount(dominant[dominant >= 0], minlength=k)
        order = sorted(range(k), key=lambda t: (-int(sizes[t]), t))
        themes: list[CandidateTheme] = []
        remap = np.full(k, -1, dtype=np.int64)
        for topic in order:
            size = int(sizes[topic])
            if size < max(1, self.min_theme_size):
                continue
            members = np.flatnonzero(dominant == topic)
            # Most concentrated on this topic, then strongest, then longer, then first.
            strength = doc_topic[members, topic]
            rank = np.lexsort(
                (members, -lengths[members], -strength, -np.round(concentration[members], 6))
            )
            reps = [int(members[i]) for i in rank[: self.n_representatives]]
            terms, values = _top_terms(self.components_[topic], names, self.n_top_terms)
            terms = [" ".join(shown.get(w, w) for w in term.split()) for term in terms]
            remap[topic] = len(themes)
            themes.append(
                CandidateTheme(
                    index=len(themes),
                    label=draft_label(terms),
                    top_terms=terms,
                    size=size,
                    share=size / n if n else 0.0,
                    representatives=reps,
                    members=[int(m) for m in members],
                    term_weights=values,
                )
            )
        self.themes_ = themes
        self.labels_ = np.where(dominant >= 0, remap[np.maximum(dominant, 0)], -1)
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        """Topic mixtures of new texts (rows of ``doc_topic_``'s space)."""
        if self.vectorizer_ is None:
            return np.zeros((len(list(X)), 0))
        return np.asarray(self.nmf_.transform(self.vectorizer_.transform(lemmatise(list(X)))))

    def fit_predict(self, X: Iterable[str], y: object = None) -> np.ndarray:
        return self.fit(X).labels_
