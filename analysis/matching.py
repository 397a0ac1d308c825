"""A cross-topic answer-vs-theme matcher with small learned weights.

``ThemeMatcher`` scores how well an answer matches a theme *description* (a key
point, a codeframe entry) from frozen sentence embeddings (``analysis.embeddings``):

    logit(a, t) = alpha * cos(a, t) + sum_i w_i a_i t_i + (U a) . (U t)

a diagonal plus low-rank bilinear form on L2-normalised embeddings. It is trained
once, offline, on (argument, key point, match) pairs of the ArgKP *train* split
(IBM Debater ArgKP v1, CDLA-Sharing 1.0) by ``benchmarks/train_matcher.py``, which
is deterministic for a seed; the weights ship in ``analysis/data/`` (a few
hundred KB) and load with numpy, offline, without torch. Themes of a new
consultation are new topics, so the training script selects the rank and
regularisation by leave-topics-out cross-validation.

``ThemeCoder(matcher=...)`` adds the matcher's score of every (answer, theme
description) pair as one more feature of its pair model; the hand-coded seed
still decides how much to trust it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator

__all__ = ["ThemeMatcher", "default_matcher", "shipped_path"]

_DATA = Path(__file__).resolve().parent / "data"


def shipped_path(backend: str) -> Path:
    """Where the shipped weights for an embedding backend live."""
    return _DATA / f"matcher_{backend}.npz"


class ThemeMatcher(BaseEstimator):
    """Diagonal + low-rank bilinear matcher over L2-normalised embeddings.

    Parameters
    ----------
    rank : rows of the low-rank projection ``U``.
    l2 : L2 penalty on ``w`` and ``U`` (the mean log-loss is minimised).
    max_iter : L-BFGS iterations.
    random_state : seed of ``U``'s initialisation.
    backend : the embedding backend the weights belong to (recorded, checked at use).
    """

    def __init__(
        self,
        rank: int = 0,
        l2: float = 1e-5,
        max_iter: int = 200,
        random_state: int = 0,
        backend: str = "wordllama",
    ) -> None:
        self.rank = rank
        self.l2 = l2
        self.max_iter = max_iter
        self.random_state = random_state
        self.backend = backend

    def fit(
        self,
        A: np.ndarray,
        Y: np.ndarray,
        themes: np.ndarray,
        answer_groups: np.ndarray,
        theme_groups: np.ndarray,
    ) -> ThemeMatcher:
        """Learn from coded answers of several topics.

        A: answer embeddings (n, d); themes: theme description embeddings (m, d);
        Y: (n, m) bool, answer i matches theme j; answer_groups / theme_groups:
        the topic of each answer / theme. The loss is listwise: for each answer
        with at least one match, minus the log of the softmax mass its matching
        themes get among the themes of its topic (the coder's question: which of
        this question's themes fits best)."""
        A = np.asarray(A, dtype=np.float64)
        K = np.asarray(themes, dtype=np.float64)
        Y = np.asarray(Y, dtype=bool)
        ga, gt = np.asarray(answer_groups), np.asarray(theme_groups)
        if Y.shape != (len(A), len(K)) or len(ga) != len(A) or len(gt) != len(K):
            raise ValueError("A, Y, themes and the groups disagree in shape")
        blocks = []
        for g in sorted(set(ga.tolist())):
            cols = np.flatnonzero(gt == g)
            rows = np.flatnonzero((ga == g) & Y[:, cols].any(1))
            if len(rows) and len(cols) > 1:
                blocks.append((A[rows], K[cols], Y[np.ix_(rows, cols)].astype(np.float64)))
        if not blocks:
            raise ValueError("need answers matching one of several themes of their topic")
        n = sum(len(b[2]) for b in blocks)
        d = A.shape[1]
        r = int(self.rank)
        rng = np.random.default_rng(self.random_state)
        x0 = np.concatenate([[5.0], np.zeros(d), rng.normal(0.0, 0.01, r * d)])
        lam = float(self.l2)

        def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
            al, w, U = x[0], x[1 : 1 + d], x[1 + d :].reshape(r, d)
            f, gal, gw, gU = 0.0, 0.0, np.zeros(d), np.zeros((r, d))
            for Ab, Kb, Yb in blocks:
                pa, pk = Ab @ U.T, Kb @ U.T
                C = Ab @ Kb.T
                S = al * C + (Ab * w) @ Kb.T + pa @ pk.T
                S = S - S.max(1, keepdims=True)
                E = np.exp(S)
                Z = E.sum(1, keepdims=True)
                Ep = (E * Yb).sum(1, keepdims=True)
                f -= float(np.log(Ep[:, 0] / Z[:, 0]).sum())
                G = (E / Z - E * Yb / Ep) / n
                gal += float((G * C).sum())
                gw += ((G @ Kb) * Ab).sum(0)
                gU += pk.T @ G.T @ Ab + pa.T @ G @ Kb
            f = f / n + lam * float(w @ w + (U * U).sum())
            return f, np.concatenate([[gal], gw + 2 * lam * w, (gU + 2 * lam * U).ravel()])

        res = minimize(
            loss,
            x0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "gtol": 1e-10, "ftol": 1e-12},
        )
        x = res.x
        self.intercept_ = 0.0
        self.alpha_ = float(x[0])
        self.w_ = x[1 : 1 + d].astype(np.float32)
        self.U_ = x[1 + d :].reshape(r, d).astype(np.float32)
        self.n_iter_ = int(res.nit)
        return self

    def score(self, A: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Match logits of every answer (rows of ``A``) with every theme (rows of
        ``T``): shape (len(A), len(T))."""
        A = np.asarray(A, dtype=np.float32)
        T = np.asarray(T, dtype=np.float32)
        left = np.concatenate([A * (self.alpha_ + self.w_)[None, :], A @ self.U_.T], axis=1)
        right = np.concatenate([T, T @ self.U_.T], axis=1)
        return (left @ right.T + self.intercept_).astype(np.float32)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            intercept=np.float32(self.intercept_),
            alpha=np.float32(self.alpha_),
            w=self.w_,
            U=self.U_,
            backend=np.asarray(self.backend),
            rank=np.int32(self.rank),
            l2=np.float32(self.l2),
        )

    @classmethod
    def load(cls, path: Path) -> ThemeMatcher:
        with np.load(path, allow_pickle=False) as z:
            m = cls(rank=int(z["rank"]), l2=float(z["l2"]), backend=str(z["backend"]))
            m.intercept_ = float(z["intercept"])
            m.alpha_ = float(z["alpha"])
            m.w_ = z["w"].astype(np.float32)
            m.U_ = z["U"].astype(np.float32)
        return m


@lru_cache(maxsize=4)
def default_matcher(backend: str) -> ThemeMatcher | None:
    """The shipped matcher for an embedding backend, or None when none ships."""
    path = shipped_path(backend)
    if not path.is_file():
        return None
    return ThemeMatcher.load(path)
