from __future__ import annotations

import numpy as np
from sklearn.base import clone

from analysis.discovery import ThemeDiscoverer, draft_label, lemmatise, rule_lemma
from benchmarks.discovery_quality import planted, purity_recall


def test_planted_topics_are_recovered() -> None:
    texts, truth = planted(n_per_topic=40, seed=3)
    model = ThemeDiscoverer(random_state=0).fit(texts)
    scores = purity_recall(list(model.labels_), truth)
    print("planted topics:", scores)
    # Every planted topic is the majority of some candidate, and candidates are mostly pure.
    assert scores["recall"] == 1.0
    assert scores["purity"] >= 0.8
    # "auto" chooses the number of themes by silhouette: the six planted topics.
    assert len(model.themes_) == 6 and max(model.k_scores_, key=model.k_scores_.get) == 6


def test_each_candidate_has_terms_label_and_representatives_from_its_members() -> None:
    texts, truth = planted(n_per_topic=30, seed=1, topics=["privacy", "cost", "health"])
    model = ThemeDiscoverer(n_themes=3, random_state=0).fit(texts)
    assert [t.index for t in model.themes_] == list(range(len(model.themes_)))
    sizes = [t.size for t in model.themes_]
    assert sizes == sorted(sizes, reverse=True)
    vocab = {"privacy": "privacy", "cost": "cost", "health": "nhs"}
    found = set()
    for theme in model.themes_:
        assert theme.top_terms and theme.label
        assert 1 <= len(theme.representatives) <= 3
        assert set(theme.representatives) <= set(theme.members)
        assert all(model.labels_[i] == theme.index for i in theme.members)
        majority = max(set(truth), key=lambda t: sum(truth[i] == t for i in theme.members))
        # The planted topic's own words lead the candidate's terms.
        assert any(w in " ".join(theme.top_terms) for w in (vocab[majority], majority))
        found.add(majority)
    assert found == {"privacy", "cost", "health"}
    assert sum(t.size for t in model.themes_) == int((model.labels_ >= 0).sum())
    assert abs(sum(t.share for t in model.themes_) - (model.labels_ >= 0).mean()) < 1e-9


def test_same_seed_same_themes() -> None:
    texts, _ = planted(n_per_topic=25, seed=7)
    a = ThemeDiscoverer(random_state=4).fit(texts)
    b = clone(a).fit(texts)
    assert [(t.label, t.top_terms, t.members, t.representatives) for t in a.themes_] == [
        (t.label, t.top_terms, t.members, t.representatives) for t in b.themes_
    ]
    assert np.array_equal(a.labels_, b.labels_)


def test_lemmas_merge_inflections_and_drop_placeholders_and_stop_words() -> None:
    assert rule_lemma("schools") == "school"
    assert rule_lemma("policies") == "policy"
    assert rule_lemma("charging") == "charg"
    assert rule_lemma("process") == "process"
    words = lemmatise(["Please email [EMAIL] about the schools and the school cars."])[0]
    assert "email" in words and "school" in words and "car" in words
    assert "the" not in words and "EMAIL" not in words and "[EMAIL]" not in words


def test_empty_and_degenerate_input() -> None:
    model = ThemeDiscoverer().fit([])
    assert model.themes_ == [] and model.labels_.shape == (0,)
    model = ThemeDiscoverer().fit(["", "the and of", "   "])
    assert model.themes_ == [] and list(model.labels_) == [-1, -1, -1]
    model = ThemeDiscoverer(min_theme_size=1).fit(["Cycle lanes please.", "More cycle lanes."])
    assert model.themes_ and "cycle" in " ".join(model.themes_[0].top_terms)


def test_draft_label_uses_leading_distinct_terms() -> None:
    assert draft_label(["school uniform", "uniform", "bullying", "cost"]) == (
        "School uniform, bullying"
    )
    assert draft_label([]) == "Other"


def test_learned_attributes_only_after_fit() -> None:
    model = ThemeDiscoverer(n_themes=2)
    assert not hasattr(model, "themes_")
    assert model.get_params()["n_themes"] == 2
