"""ThemeCoder / StanceClassifier: estimator contract and learning on a synthetic problem."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

from analysis.coding import StanceClassifier, ThemeCoder, micro_macro_f1, sample_f1

THEMES = {
    "COST": "Cost: the proposal is too expensive, prices, fees and taxes people cannot afford",
    "SAFE": "Safety: risk of harm, danger, accidents and protecting people's safety",
    "PRIV": "Privacy: personal data, surveillance, sharing information without consent",
}
PHRASES = {
    "COST": [
        "it is far too expensive",
        "the fees are too high for families",
        "people cannot afford the extra tax",
        "prices will go up for everyone",
        "the cost to taxpayers is huge",
    ],
    "SAFE": [
        "it puts children in danger",
        "there is a real risk of accidents",
        "this is unsafe and people will get hurt",
        "the safety of pedestrians matters",
        "it increases the risk of harm",
    ],
    "PRIV": [
        "my personal data should stay private",
        "this is surveillance by the state",
        "sharing my information without consent is wrong",
        "nobody asked for my data to be collected",
        "privacy must be protected",
    ],
}
FILLER = [
    "I have lived here for twenty years",
    "thank you for asking",
    "no comment",
    "I read the document carefully",
    "see my earlier letter",
]


def make_data(n: int, seed: int) -> tuple[list[str], list[list[str]], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels, stances = [], [], []
    for _ in range(n):
        k = rng.choice([0, 1, 1, 2], p=[0.2, 0.35, 0.3, 0.15])
        themes = sorted(rng.choice(list(PHRASES), size=k, replace=False).tolist())
        parts = [str(rng.choice(PHRASES[t])) for t in themes]
        parts.append(str(rng.choice(FILLER)))
        rng.shuffle(parts)
        oppose = bool(rng.random() < 0.5)
        lead = "I oppose this plan." if oppose else "I support this plan."
        texts.append(lead + " " + ". ".join(parts) + ".")
        labels.append(themes)
        stances.append("DISAGREE" if oppose else "AGREE")
    return texts, labels, stances


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    train = make_data(120, 1)
    test = make_data(200, 2)
    return train, test


@pytest.fixture(scope="module")
def fitted(data):  # type: ignore[no-untyped-def]
    (texts, labels, stances), _ = data
    return ThemeCoder(random_state=0).fit(
        texts, labels, theme_descriptions=THEMES, positions=stances
    )


def test_params_and_clone() -> None:
    est = ThemeCoder(C=2.0, n_neighbors=5, random_state=3)
    params = est.get_params()
    assert params["C"] == 2.0 and params["n_neighbors"] == 5 and params["random_state"] == 3
    twin = clone(est)
    assert twin.get_params() == params
    assert not hasattr(twin, "classes_")
    est.set_params(C=1.0)
    assert est.C == 1.0
    assert clone(StanceClassifier(C=3.0)).get_params()["C"] == 3.0


def test_fit_returns_self_and_learned_attributes(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), _ = data
    est = ThemeCoder()
    assert est.fit(texts, labels, theme_descriptions=THEMES) is est
    assert list(est.classes_) == sorted(THEMES)
    for attr in ("thresholds_", "fallback_threshold_", "coef_", "featurizer_", "pair_model_"):
        assert hasattr(est, attr)


def test_deterministic_with_random_state(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), (test_texts, _, _) = data
    a = ThemeCoder(random_state=7).fit(texts, labels, theme_descriptions=THEMES)
    b = ThemeCoder(random_state=7).fit(texts, labels, theme_descriptions=THEMES)
    np.testing.assert_array_equal(a.predict_proba(test_texts), b.predict_proba(test_texts))
    assert a.predict(test_texts) == b.predict(test_texts)


@pytest.mark.parametrize("model", ["pairwise", "ovr"])
def test_learns_synthetic_problem(data, model: str) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), (test_texts, test_labels, _) = data
    est = ThemeCoder(model=model).fit(texts, labels, theme_descriptions=THEMES)
    pred = est.predict(test_texts)
    assert sample_f1(test_labels, pred) > 0.85
    micro, macro = micro_macro_f1(test_labels, pred)
    assert micro > 0.85 and macro > 0.85


def test_multilabel_including_none(fitted, data) -> None:  # type: ignore[no-untyped-def]
    _, (test_texts, test_labels, _) = data
    pred = fitted.predict(test_texts)
    sizes = {len(p) for p in pred}
    assert 0 in sizes and 2 in sizes
    none_gold = [i for i, g in enumerate(test_labels) if not g]
    assert np.mean([pred[i] == [] for i in none_gold]) > 0.7
    P = fitted.predict_proba(test_texts)
    assert P.shape == (len(test_texts), 3)
    assert ((P >= 0) & (P <= 1)).all()


def test_thresholds_inside_unit_interval(fitted) -> None:  # type: ignore[no-untyped-def]
    assert fitted.thresholds_.shape == (3,)
    assert ((fitted.thresholds_ > 0) & (fitted.thresholds_ < 1)).all()
    assert 0 < fitted.global_threshold_ < 1


def test_explain_gives_evidence(fitted) -> None:  # type: ignore[no-untyped-def]
    ev = fitted.explain("I oppose this plan. It is far too expensive and the fees are too high.")
    assert ev["labels"] == ["COST"]
    top = ev["themes"][0]
    assert top["theme"] == "COST" and top["selected"]
    assert 0 < top["threshold"] < 1
    terms = [t for t, _ in top["terms"]]
    assert any(w in " ".join(terms) for w in ("expensive", "fees", "high"))
    assert top["examples"] and all("text" in e and "similarity" in e for e in top["examples"])
    assert any(t for t, _ in top["description_terms"])


def test_most_informative_and_uncertainty(fitted, data) -> None:  # type: ignore[no-untyped-def]
    _, (test_texts, _, _) = data
    idx = fitted.most_informative(test_texts, k=10)
    assert len(idx) == 10 and len(set(idx)) == 10
    u = fitted.uncertainty(test_texts)
    assert u.shape == (len(test_texts),)
    assert u[idx[0]] == pytest.approx(u.max())


def test_zero_shot_theme_from_description(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), _ = data
    # drop PRIV from the seed codes: it is known only from its description
    est = ThemeCoder().fit(
        texts, [[lab for lab in s if lab != "PRIV"] for s in labels], theme_descriptions=THEMES
    )
    assert "PRIV" in list(est.classes_)
    assert est.predict_proba(["I oppose this plan. No comment."]).shape == (1, 3)


def test_stance_classifier(fitted, data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, stances), (test_texts, _, test_stances) = data
    sc = StanceClassifier().fit(texts, stances)
    assert list(sc.classes_) == ["AGREE", "DISAGREE"]
    acc = float(np.mean(sc.predict(test_texts) == np.asarray(test_stances)))
    assert acc > 0.9
    stacked = StanceClassifier().fit(
        texts,
        stances,
        theme_proba=fitted.oof_proba_,
        theme_labels=labels,
        theme_classes=list(fitted.classes_),
    )
    pred = stacked.predict(test_texts, theme_proba=fitted.predict_proba(test_texts))
    assert float(np.mean(pred == np.asarray(test_stances))) > 0.9


def test_sample_f1_definition() -> None:
    assert sample_f1([[], ["A"]], [[], ["A"]]) == 1.0
    assert sample_f1([[]], [["A"]]) == 0.0
    assert sample_f1([["A", "B"]], [["A"]]) == pytest.approx(2 / 3)


def test_analysis_does_not_import_app() -> None:
    code = (
        "import sys, analysis.coding, analysis.features; "
        "assert not [m for m in sys.modules if m == 'app' or m.startswith('app.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_read_positions_at_predict(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, stances), (test_texts, test_labels, test_stances) = data
    est = ThemeCoder().fit(texts, labels, theme_descriptions=THEMES, positions=stances)
    P_read = est.predict_proba(test_texts, positions=test_stances)
    P_text = est.predict_proba(test_texts)
    assert P_read.shape == P_text.shape == (len(test_texts), 3)
    # unknown positions (None) fall back to the text stance model
    P_none = est.predict_proba(test_texts, positions=[None] * len(test_texts))
    np.testing.assert_allclose(P_none, P_text)
    assert sample_f1(test_labels, est.predict(test_texts, positions=test_stances)) > 0.85
    with pytest.raises(ValueError):
        est.predict_proba(test_texts, positions=test_stances[:3])


def test_embedding_auto_falls_back_offline(data) -> None:  # type: ignore[no-untyped-def]
    from analysis.features import embedding_available

    (texts, labels, _), _ = data
    est = ThemeCoder(embedding="auto").fit(texts, labels, theme_descriptions=THEMES)
    assert est.embedding_ == ("wordllama" if embedding_available() else None)
    assert est.char_weight_ == (0.0 if est.embedding_ else 0.5)
    assert ThemeCoder(embedding=None).fit(texts, labels).embedding_ is None


@pytest.mark.parametrize(
    "params",
    [{"decision": "top"}, {"decision": "expected_f1"}, {"linear": True, "coverage": False}],
)
def test_other_settings(data, params) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), (test_texts, test_labels, _) = data
    est = ThemeCoder(**params).fit(texts, labels, theme_descriptions=THEMES)
    assert sample_f1(test_labels, est.predict(test_texts)) > 0.8


# ------------------------------------------------ embeddings and new components
def test_embeddings_backends_offline() -> None:
    from analysis import embeddings

    with pytest.raises(ValueError):
        embeddings.embed(["x"], "no-such-backend")
    assert embeddings.available("no-such-backend") is False
    for backend in embeddings.BACKENDS:
        if not embeddings.available(backend):
            continue  # optional: installed with the 'embeddings' extra
        texts = [
            "school uniforms reduce bullying",
            "uniforms stop children being bullied at school",
            "the bus timetable changed in march",
        ]
        E = embeddings.embed(texts, backend)
        assert E.dtype == np.float32 and E.shape[0] == 3
        np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-5)
        S = E @ E.T
        assert S[0, 1] > S[0, 2] and S[0, 1] > S[1, 2]  # paraphrases are closer
        # memoised: the same text gives the same vector, also inside a new batch
        np.testing.assert_allclose(embeddings.embed([texts[2], texts[0]], backend), E[[2, 0]])
        assert embeddings.embed([], backend).shape[0] == 0


def test_pair_logistic_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from analysis.coding import _ScaledLogistic

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 12)) * rng.uniform(0.1, 5.0, 12)
    X[:, 5] = 3.0  # a constant column must not break the scaling
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=400) > 0).astype(int)
    for C in (0.03, 1.0):
        ours = _ScaledLogistic(C=C).fit(X, y).predict_proba(X)
        scaler = StandardScaler().fit(X)
        ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(scaler.transform(X), y)
        np.testing.assert_allclose(ours, ref.predict_proba(scaler.transform(X)), atol=1e-4)


@pytest.mark.parametrize("embedding", [None, "wordllama"])
def test_stance_classifier_with_and_without_embeddings(data, embedding) -> None:  # type: ignore[no-untyped-def]
    from analysis.embeddings import available

    if embedding and not available(embedding):
        pytest.skip(f"{embedding} not installed")
    (texts, _, stances), (test_texts, _, test_stances) = data
    sc = StanceClassifier(embedding=embedding).fit(texts, stances)
    assert sc.embedding_ == embedding
    assert len(sc.text_model_) == (2 if embedding else 1)
    P = sc.predict_proba(test_texts)
    np.testing.assert_allclose(P.sum(1), 1.0)
    assert (sc.predict(test_texts) == np.asarray(test_stances)).mean() > 0.9
    with pytest.raises(ValueError):
        StanceClassifier(embedding="nope").fit(texts, stances)


def test_embedding_ridge_feature(data) -> None:  # type: ignore[no-untyped-def]
    from analysis.embeddings import available

    if not available("wordllama"):
        pytest.skip("wordllama not installed")
    (texts, labels, stances), (test_texts, test_labels, test_stances) = data
    with_ridge = ThemeCoder(embedding="wordllama").fit(
        texts, labels, theme_descriptions=THEMES, positions=stances
    )
    without = ThemeCoder(embedding="wordllama", embedding_ridge=False).fit(
        texts, labels, theme_descriptions=THEMES, positions=stances
    )
    assert with_ridge.edual_coef_ is not None
    assert with_ridge.edual_coef_.shape == (len(texts) + len(THEMES), 3)  # + descriptions
    assert without.edual_coef_ is None
    # one more stage-one score in the pair features (the score and its two "relative" columns)
    n_with = with_ridge.pair_model_.coef_.shape[0]
    assert n_with == without.pair_model_.coef_.shape[0] + 3
    pred = with_ridge.predict(test_texts, positions=test_stances)
    assert sample_f1(test_labels, pred) > 0.85


def test_uncoded_answers_for_the_vocabulary_are_capped(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), _ = data
    uncoded = [f"uncodedword{i}" for i in range(50)]

    def seen(est: ThemeCoder) -> set[str]:
        vocab = est.featurizer_.word_.vocabulary_
        return {w for w in uncoded if w in vocab}

    capped = ThemeCoder(max_unlabelled=10, embedding=None).fit(
        texts, labels, unlabelled_texts=uncoded
    )
    assert len(seen(capped)) == 10
    again = ThemeCoder(max_unlabelled=10, embedding=None).fit(
        texts, labels, unlabelled_texts=uncoded
    )
    assert seen(again) == seen(capped)  # the sample is seeded
    full = ThemeCoder(max_unlabelled=None, embedding=None).fit(
        texts, labels, unlabelled_texts=uncoded
    )
    assert len(seen(full)) == 50


def test_descriptions_are_ridge_examples(data) -> None:  # type: ignore[no-untyped-def]
    (texts, labels, _), _ = data
    est = ThemeCoder(embedding=None).fit(texts, labels, theme_descriptions=THEMES)
    # one extra row per described theme, after the seed rows
    assert est.ridge_X_.shape[0] == len(texts) + len(THEMES)
    assert est.dual_coef_.shape == (len(texts) + len(THEMES), len(THEMES))
    plain = ThemeCoder(embedding=None, description_examples=False).fit(
        texts, labels, theme_descriptions=THEMES
    )
    assert plain.ridge_X_.shape[0] == len(texts)
    # a theme known only from its description still gets a ridge score from it
    zero = ThemeCoder(embedding=None).fit(
        texts[:40], [[lab for lab in s if lab != "PRIV"] for s in labels[:40]], THEMES
    )
    j = list(zero.classes_).index("PRIV")
    assert np.abs(zero.dual_coef_[:, j]).sum() > 0
    P = zero.predict_proba(["sharing my personal data without consent is surveillance"])
    assert P[0].argmax() == j
