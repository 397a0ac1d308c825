"""The answer-vs-theme matcher (analysis.matching) and its use in ThemeCoder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from analysis.coding import ThemeCoder
from analysis.embeddings import available, embed
from analysis.features import normalise
from analysis.matching import ThemeMatcher, default_matcher, shipped_path

ARGKP = Path("/work/shared/data/dev/argkp")

needs_wordllama = pytest.mark.skipif(not available("wordllama"), reason="wordllama not installed")

THEMES = {
    "study": "Libraries give children a quiet place to study and do homework",
    "money": "The council has to save money and cut its spending",
    "parking": "Parking in the town centre is too expensive",
}
ANSWERS = {
    "study": "Where will the kids do their homework in peace if the library shuts?",
    "money": "The council is broke, it cannot keep spending on everything, cuts are needed.",
    "parking": "Car park fees in town are far too high, nobody can afford to park.",
}


def _synthetic(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Topics of 4 themes in 16 dims: an answer copies its theme's first 8 dims
    and another theme's last 8 (a distractor, say the topic's shared vocabulary
    pointing the wrong way), plus noise. The plain cosine is fooled half the time;
    a matcher that learns to trust only the first 8 dims is not."""
    rng = np.random.default_rng(seed)
    A, K, ga, gk, match = [], [], [], [], []
    for topic in range(40):
        base = len(K)
        for _ in range(4):
            K.append(rng.normal(0, 1, 16))
            gk.append(topic)
        for _ in range(10):
            j, other = rng.choice(4, size=2, replace=False)
            v = np.concatenate([K[base + j][:8], K[base + other][8:]])
            A.append(v + rng.normal(0, 0.5, 16))
            ga.append(topic)
            match.append(base + j)
    A_ = np.asarray(A) / np.linalg.norm(A, axis=1, keepdims=True)
    K_ = np.asarray(K) / np.linalg.norm(K, axis=1, keepdims=True)
    Y = np.zeros((len(A_), len(K_)), dtype=bool)
    Y[np.arange(len(A_)), match] = True
    return A_, Y, K_, np.asarray(ga), np.asarray(gk)


def test_fit_is_deterministic_and_learns_which_dimensions_carry_the_match() -> None:
    A, Y, K, ga, gk = _synthetic(0)
    train_a, train_k = ga < 30, gk < 30
    fit = lambda: ThemeMatcher(rank=0, l2=1e-4).fit(  # noqa: E731
        A[train_a], Y[np.ix_(train_a, train_k)], K[train_k], ga[train_a], gk[train_k]
    )
    m1, m2 = fit(), fit()
    assert np.array_equal(m1.w_, m2.w_) and m1.alpha_ == m2.alpha_
    # on held-out topics the learned weights rank the right theme first more often
    # than the plain cosine does
    test_a, test_k = ga >= 30, gk >= 30
    At, Kt, Yt = A[test_a], K[test_k], Y[np.ix_(test_a, test_k)]
    same = ga[test_a][:, None] == gk[test_k][None, :]
    learned = np.where(same, m1.score(At, Kt), -np.inf).argmax(1)
    plain = np.where(same, At @ Kt.T, -np.inf).argmax(1)
    rows = np.arange(len(At))
    assert Yt[rows, learned].mean() > Yt[rows, plain].mean() + 0.2


def test_fit_rejects_inconsistent_shapes() -> None:
    A, Y, K, ga, gk = _synthetic(1)
    with pytest.raises(ValueError):
        ThemeMatcher().fit(A, Y[:, :-1], K, ga, gk)


def test_save_and_load_give_the_same_scores(tmp_path: Path) -> None:
    A, Y, K, ga, gk = _synthetic(2)
    m = ThemeMatcher(rank=2, l2=1e-3, backend="wordllama").fit(A, Y, K, ga, gk)
    m.save(tmp_path / "m.npz")
    loaded = ThemeMatcher.load(tmp_path / "m.npz")
    assert loaded.rank == 2 and loaded.backend == "wordllama"
    np.testing.assert_allclose(loaded.score(A, K), m.score(A, K), rtol=1e-5, atol=1e-5)


def test_the_shipped_weights_load_offline_from_the_package() -> None:
    path = shipped_path("wordllama")
    assert path.is_file() and path.stat().st_size < 5_000_000
    m = default_matcher("wordllama")
    assert m is not None and m.backend == "wordllama"
    assert m.w_.shape == (256,) and np.isfinite(m.w_).all()
    assert default_matcher("no-such-backend") is None


@needs_wordllama
def test_the_shipped_matcher_ranks_the_matching_theme_first() -> None:
    m = default_matcher("wordllama")
    assert m is not None
    ids = list(THEMES)
    E = embed([normalise(ANSWERS[k]) for k in ids], "wordllama")
    T = embed([normalise(THEMES[k]) for k in ids], "wordllama")
    S = m.score(E, T)
    assert S.shape == (3, 3)
    assert [ids[j] for j in S.argmax(1)] == ids


@needs_wordllama
def test_theme_coder_uses_the_shipped_matcher_only_when_asked() -> None:
    seed = {
        "study": [
            "My children revise at the library every evening.",
            "Students need somewhere quiet to read and study.",
            "The homework club at the library is essential.",
            "There is no space at home for the kids to study.",
        ],
        "money": [
            "The council should balance its budget.",
            "Spending must be cut, council tax is high enough.",
            "We cannot afford it, savings have to be made.",
            "The council wastes money and should spend less.",
        ],
        "parking": [
            "Parking charges in the centre are a rip-off.",
            "It costs too much to park in town.",
            "Cheaper car parks would bring shoppers back.",
            "The parking fees keep people away from the high street.",
        ],
    }
    texts = [t for k in THEMES for t in seed[k]]
    labels = [[k] for k in THEMES for _ in seed[k]]
    plain = ThemeCoder(embedding="wordllama").fit(texts, labels, theme_descriptions=THEMES)
    assert plain.matcher_ is None
    coder = ThemeCoder(embedding="wordllama", matcher="shipped").fit(
        texts, labels, theme_descriptions=THEMES
    )
    assert coder.matcher_ is default_matcher("wordllama")
    # one more pair feature: the score, its gap to the best theme, "is the best"
    n_plain = plain.pair_model_.coef_.shape[-1]
    assert coder.pair_model_.coef_.shape[-1] == n_plain + 3
    P = coder.predict_proba([ANSWERS[k] for k in THEMES])
    assert coder.classes_[P.argmax(1)].tolist() == list(THEMES)
    # TF-IDF only: no embeddings, so no matcher
    assert ThemeCoder(embedding=None, matcher="shipped").fit(texts, labels, THEMES).matcher_ is None
    with pytest.raises(ValueError):
        ThemeCoder(embedding="wordllama", matcher="bogus").fit(texts, labels, THEMES)


@needs_wordllama
@pytest.mark.skipif(not (ARGKP / "labels_train.csv").is_file(), reason="ArgKP not present")
def test_training_script_reproduces_the_shipped_weights(tmp_path: Path) -> None:
    from benchmarks.train_matcher import main

    out = tmp_path / "matcher.npz"
    assert main([str(ARGKP), "--write", "--out", str(out)]) == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(shipped_path("wordllama").read_bytes()).hexdigest()
