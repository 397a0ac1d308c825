"""Stance (position) from text, trained on the answers that have both.

``StanceClassifier`` combines, per proposal:

1. an in-topic model fitted on the seed (answers with a known stance): a word TF-IDF
   logistic regression averaged with a logistic regression on sentence embeddings
   (``embedding``: "auto" uses wordllama when installed, "minilm" is better but
   slower, see ``analysis.embeddings``);
2. a cross-topic *valence* prior shipped with the package (``data/stance_prior.json``,
   trained by ``benchmarks/train_stance_prior.py`` on the ArgKP training motions
   only): a logistic regression on word uni- and bigrams with negation scope
   ("not good" -> ``NOT_good``) that scores how favourably an answer speaks of what
   it discusses. Whether a favourable answer agrees or disagrees depends on the
   proposal ("legalise X" vs "ban X"), so the prior's direction for each stance is
   learned from the seed, and the prior is added to the in-topic log-odds with a
   fixed weight (``prior_weight``);
3. one round of self-training on the proposal's other answers (transductive: the
   most confident ``self_training`` share of the unlabelled answers is added with
   its predicted stance and the in-topic model refitted);
4. optionally, themes: pass ``theme_proba`` (out-of-fold, from a ThemeCoder fitted on
   the same seed, columns in ``theme_classes``) and ``theme_labels`` (the seed's gold
   label sets) to ``fit``, and ``theme_proba`` to ``predict``. The theme -> stance
   association is learned from the seed; themes that carry a side then vote through
   a small stacker.

Everything is offline and deterministic (numpy / scikit-learn; the prior is JSON).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from analysis.features import (
    TextFeaturizer,
    cap_texts,
    embed,
    logit,
    normalise,
    resolve_embedding,
)

__all__ = ["PRIOR_PATH", "StanceClassifier", "StancePrior", "load_prior", "valence_terms"]

PRIOR_PATH = Path(__file__).parent / "data" / "stance_prior.json"

_NEGATORS = frozenset(
    {"not", "no", "never", "cannot", "nor", "without", "nothing", "none", "neither", "nobody"}
    | {"lack", "lacks"}
)
_TOKEN = re.compile(r"[a-z][a-z']*|[.,;:!?]")
_CLAUSE_END = frozenset(".,;:!?")


def valence_terms(text: str) -> list[str]:
    """Lower-cased words and word bigrams; a word after a negator ("not", "no",
    "never", "...n't") up to the end of its clause is marked ``NOT_word``."""
    words: list[str] = []
    negated = False
    for tok in _TOKEN.findall(normalise(text)):
        if tok in _CLAUSE_END:
            negated = False
            continue
        words.append("NOT_" + tok if negated else tok)
        if tok in _NEGATORS or tok.endswith("n't"):
            negated = True
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


class StancePrior:
    """Cross-topic valence scorer: sublinear TF-IDF over ``valence_terms``, rows
    L2-normalised, then a linear score (log-odds that the answer speaks favourably
    of what it discusses). Built by ``fit`` or loaded from JSON."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: float):
        self.terms = list(terms)
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)

    @classmethod
    def fit(
        cls, texts: Sequence[str], valence: Sequence[int], C: float = 1.0, min_df: int = 3
    ) -> StancePrior:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=valence_terms, min_df=min_df, sublinear_tf=True)
        X = vec.fit_transform([str(t) for t in texts])
        lr = LogisticRegression(C=C, solver="liblinear", max_iter=5000)
        lr.fit(X, np.asarray(valence, dtype=int))
        terms = vec.get_feature_names_out()
        return cls(terms, vec.idf_, lr.coef_[0], float(lr.intercept_[0]))

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            for term in valence_terms(str(text)):
                j = self.index.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            ws = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in ws.values()))
            for j, w in ws.items():
                rows.append(r)
                cols.append(j)
                vals.append(w / norm)
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.terms)))

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Valence log-odds per text (the intercept alone for texts with no known term)."""
        if not len(texts):
            return np.zeros(0)
        return np.asarray(self.matrix(texts) @ self.coef).ravel() + self.intercept

    def to_json(self, meta: dict[str, Any] | None = None) -> str:
        """Stable text: sorted meta, one ``[term, idf, coef]`` row per line."""
        rows = ",\n".join(
            json.dumps([t, round(float(i), 5), round(float(c), 5)], ensure_ascii=False)
            for t, i, c in zip(self.terms, self.idf, self.coef, strict=True)
        )
        head = json.dumps(meta or {}, ensure_ascii=False, sort_keys=True)
        return (
            f'{{"meta": {head},\n"intercept": {round(self.intercept, 6)},\n'
            f'"terms": [\n{rows}\n]}}\n'
        )

    @classmethod
    def from_json(cls, text: str) -> StancePrior:
        payload = json.loads(text)
        rows = payload["terms"]
        return cls(
            [r[0] for r in rows],
            np.asarray([r[1] for r in rows]),
            np.asarray([r[2] for r in rows]),
            payload["intercept"],
        )


@lru_cache(maxsize=1)
def load_prior() -> StancePrior:
    """The shipped cross-topic valence prior (read once per process)."""
    return StancePrior.from_json(PRIOR_PATH.read_text(encoding="utf-8"))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Position from text (e.g. AGREE / DISAGREE), trained on answers that have both.

    See the module docstring. ``prior``: "shipped" uses the packaged valence prior,
    None leaves it out (a ``StancePrior`` instance is used as given).
    ``self_training``: share of the unlabelled answers pseudo-labelled in one round
    (0 turns it off), at most ``self_training_ratio`` times the seed's size.
    """

    def __init__(
        self,
        C: float = 4.0,
        cv: int = 5,
        embedding: str | None = "auto",
        embedding_C: float = 10.0,
        prior: Any = "shipped",
        prior_weight: float = 0.5,
        self_training: float = 0.8,
        self_training_rounds: int = 1,
        self_training_ratio: float = 4.0,
        max_unlabelled: int | None = 20_000,
        random_state: int | None = 0,
    ) -> None:
        self.C = C
        self.cv = cv
        self.embedding = embedding
        self.embedding_C = embedding_C
        self.prior = prior
        self.prior_weight = prior_weight
        self.self_training = self_training
        self.self_training_rounds = self_training_rounds
        self.self_training_ratio = self_training_ratio
        self.max_unlabelled = max_unlabelled
        self.random_state = random_state

    # -- fitting --------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        y: Sequence[str],
        theme_proba: np.ndarray | None = None,
        theme_labels: Sequence[Iterable[str]] | None = None,
        theme_classes: Sequence[str] | None = None,
        unlabelled_texts: Sequence[str] | None = None,
    ) -> StanceClassifier:
        texts = [str(t) for t in texts]
        y_arr = np.asarray([str(v) for v in y], dtype=object)
        self.classes_ = np.unique(y_arr)
        unlabelled = cap_texts(unlabelled_texts, self.max_unlabelled, self.random_state)
        self.featurizer_ = TextFeaturizer().fit(texts + unlabelled)
        self.embedding_ = resolve_embedding(self.embedding)
        self.prior_ = self._resolve_prior()
        self.stack_ = None
        self.theme_assoc_ = None
        self.prior_direction_ = None
        if len(self.classes_) < 2:
            self.text_model_ = None
            return self
        X = self.featurizer_.transform(texts)
        E = self._embed(texts)
        s = self._prior_scores(texts)
        if s is not None:
            self.prior_direction_ = self._direction(s, y_arr)
        models = self._fit_text(X, E, y_arr)
        if unlabelled and self.self_training > 0 and self.self_training_rounds > 0:
            Xu = self.featurizer_.transform(unlabelled)
            Eu = self._embed(unlabelled)
            su = self._prior_scores(unlabelled)
            for r in range(1, self.self_training_rounds + 1):
                P = self._combine(self._text_proba(models, Xu, Eu), su)
                k = round(self.self_training * len(unlabelled) * r / self.self_training_rounds)
                # at most self_training_ratio pseudo-labelled answers per seed answer (the
                # regime it was selected in: 20% seed, 80% of the rest pseudo-labelled)
                k = min(k, int(self.self_training_ratio * len(texts)))
                if not k:
                    break
                # most confident first; ties broken by position (deterministic)
                pick = np.sort(np.argsort(-P.max(1), kind="stable")[:k])
                pseudo = self.classes_[P[pick].argmax(1)]
                X2 = sp.vstack([X, Xu[pick]], format="csr")
                E2 = None if E is None or Eu is None else np.vstack([E, Eu[pick]])
                models = self._fit_text(X2, E2, np.concatenate([y_arr, pseudo]))
        self.text_model_ = models
        if theme_proba is not None and theme_labels is not None and theme_classes is not None:
            self._fit_theme_stack(X, E, s, y_arr, theme_proba, theme_labels, theme_classes)
        return self

    def _resolve_prior(self) -> StancePrior | None:
        if self.prior is None:
            return None
        if isinstance(self.prior, StancePrior):
            return self.prior
        if self.prior == "shipped":
            return load_prior()
        raise ValueError(f"unknown prior {self.prior!r}")

    def _prior_scores(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.prior_ is None or self.prior_weight == 0:
            return None
        return self.prior_.score(texts)

    def _direction(self, s: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-class direction of the prior, learned from the seed: for two classes
        0 for the first and +-1 for the second (the sign of the seed's association);
        for more, a multinomial fit's coefficients scaled to a range of 1."""
        z = (s - s.mean()) / max(float(s.std()), 1e-9)
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(z[:, None], y)
        coef = lr.coef_[:, 0]
        if len(self.classes_) == 2:
            return np.array([0.0, 1.0 if coef[0] > 0 else -1.0])
        d = np.zeros(len(self.classes_))
        d[np.searchsorted(self.classes_, lr.classes_)] = coef
        spread = float(d.max() - d.min())
        return d / spread if spread > 0 else np.zeros_like(d)

    def _embed(self, texts: Sequence[str]) -> np.ndarray | None:
        if not self.embedding_:
            return None
        return embed([normalise(t) for t in texts], self.embedding_)

    def _fit_text(self, X: sp.csr_matrix, E: np.ndarray | None, y: np.ndarray) -> list[Any]:
        binary = len(self.classes_) == 2
        models = []
        for feats, C in ((X, self.C), (E, self.embedding_C)):
            if feats is None:
                continue
            m = LogisticRegression(
                C=C,
                class_weight="balanced",
                solver="liblinear" if binary else "lbfgs",
                max_iter=1000,
            )
            models.append(m.fit(feats, y))
        return models

    def _text_proba(self, models: list[Any], X: sp.csr_matrix, E: np.ndarray | None) -> np.ndarray:
        out = np.zeros((X.shape[0], len(self.classes_)))
        for m, feats in zip(models, (X, E), strict=False):
            p = m.predict_proba(feats)
            # a fold may miss a class: align columns with classes_
            idx = np.searchsorted(self.classes_, m.classes_)
            out[:, idx] += p
        return out / max(len(models), 1)

    def _combine(self, text_p: np.ndarray, s: np.ndarray | None) -> np.ndarray:
        """In-topic probabilities with the prior added to their log-odds."""
        if s is None or self.prior_direction_ is None:
            return text_p
        logp = np.log(np.clip(text_p, 1e-6, 1.0))
        return _softmax(logp + self.prior_weight * np.outer(s, self.prior_direction_))

    def _fit_theme_stack(
        self,
        X: sp.csr_matrix,
        E: np.ndarray | None,
        s: np.ndarray | None,
        y_arr: np.ndarray,
        theme_proba: np.ndarray,
        theme_labels: Sequence[Iterable[str]],
        theme_classes: Sequence[str],
    ) -> None:
        # P(stance | theme) from the seed's gold codes, smoothed towards the base rate
        cls_index = {c: i for i, c in enumerate(theme_classes)}
        counts = np.zeros((len(theme_classes), len(self.classes_)))
        for labs, pos in zip(theme_labels, y_arr, strict=True):
            k = int(np.searchsorted(self.classes_, pos))
            for lab in labs:
                if lab in cls_index:
                    counts[cls_index[lab], k] += 1
        base = np.array([(y_arr == c).mean() for c in self.classes_])
        self.theme_assoc_ = (counts + 2 * base) / (counts.sum(1, keepdims=True) + 2)
        # out-of-fold text scores for the stacker (in-topic model + prior, no self-training)
        n_splits = min(self.cv, int(min((y_arr == c).sum() for c in self.classes_)))
        if n_splits < 2:
            return
        oof = np.zeros((len(y_arr), len(self.classes_)))
        skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        for tr, te in skf.split(np.zeros(len(y_arr)), y_arr):
            models = self._fit_text(X[tr], None if E is None else E[tr], y_arr[tr])
            p = self._text_proba(models, X[te], None if E is None else E[te])
            oof[te] = self._combine(p, None if s is None else s[te])
        Z = self._stack_features(oof, np.asarray(theme_proba))
        self.stack_ = LogisticRegression(C=1.0, max_iter=1000).fit(Z, y_arr)

    def _stack_features(self, text_p: np.ndarray, theme_proba: np.ndarray) -> np.ndarray:
        assert self.theme_assoc_ is not None
        w = theme_proba / np.maximum(theme_proba.sum(1, keepdims=True), 1e-6)
        theme_vote = w @ self.theme_assoc_
        conf = theme_proba.max(1, keepdims=True)
        return np.hstack([logit(text_p), logit(theme_vote), logit(theme_vote) * conf])

    # -- prediction -----------------------------------------------------------------

    def predict_proba(
        self, texts: Sequence[str], theme_proba: np.ndarray | None = None
    ) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise RuntimeError("StanceClassifier is not fitted; call fit first")
        if self.text_model_ is None:
            return np.ones((len(texts), 1))
        texts = [str(t) for t in texts]
        X = self.featurizer_.transform(texts)
        p = self._text_proba(self.text_model_, X, self._embed(texts))
        p = self._combine(p, self._prior_scores(texts))
        if self.stack_ is not None and theme_proba is not None:
            return self.stack_.predict_proba(self._stack_features(p, np.asarray(theme_proba)))
        return p

    def predict(self, texts: Sequence[str], theme_proba: np.ndarray | None = None) -> np.ndarray:
        P = self.predict_proba(texts, theme_proba)
        return self.classes_[P.argmax(1)]
