from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

from analysis.campaigns import (
    Campaign,
    CampaignDetector,
    _shingle_hashes,
    added_segments,
    added_text,
    edit_similarity,
    normalise,
    template_coverage,
)
from benchmarks.campaign_cases import generate
from benchmarks.campaign_quality import pairwise_scores

LETTER = (
    "Dear Sir or Madam,\n\n"
    "I strongly oppose the plan to share GP records with private companies. "
    "Patients were never asked and there is no real way to opt out. "
    "A single breach would expose the medical history of millions of people.\n\n"
    "The proposal should include independent oversight, a public register of every "
    "data sharing agreement and heavy fines for misuse before any data leaves the NHS.\n\n"
    "Yours faithfully,"
)
OWN = "As a nurse in Leeds I have seen families refuse treatment because they feared exposure."


@pytest.fixture(scope="module")
def small_set():
    return generate(3000, seed=7, min_size=20, max_size=80)


def test_generated_set_is_recovered(small_set) -> None:
    det = CampaignDetector().fit(small_set.texts)
    scores = pairwise_scores(small_set.gold, det.labels_)
    assert scores["f1"] >= 0.95, scores
    assert len(det.campaigns_) == len(small_set.templates)
    # nothing outside the campaigns is claimed, and the hard (derived) campaigns stay apart
    assert not np.any((det.labels_ >= 0) & (small_set.gold < 0))
    for derived, base in small_set.derived_from.items():
        a = np.bincount(det.labels_[small_set.gold == derived] + 1).argmax()
        b = np.bincount(det.labels_[small_set.gold == base] + 1).argmax()
        assert a != b


def test_attributes_are_consistent(small_set) -> None:
    det = CampaignDetector().fit(small_set.texts)
    assert det.labels_.shape == (len(small_set.texts),)
    assert det.n_texts_ == len(small_set.texts)
    sizes = [c.size for c in det.campaigns_]
    assert sizes == sorted(sizes, reverse=True)
    for k, c in enumerate(det.campaigns_):
        assert isinstance(c, Campaign)
        assert c.size == len(c.members) >= det.min_members
        assert list(np.flatnonzero(det.labels_ == k)) == c.members
        assert c.template == small_set.texts[c.template_index]
        assert c.template_index in c.members
        assert np.all(det.similarity_[c.members] >= 0.45)
        assert det.similarity_[c.template_index] == 1.0
    assert np.all(det.similarity_[det.labels_ < 0] == 0)
    assert np.array_equal(det.root_labels_ < 0, det.labels_ < 0)


def test_deterministic(small_set) -> None:
    a = CampaignDetector(random_state=3).fit(small_set.texts)
    b = CampaignDetector(random_state=3).fit(list(small_set.texts))
    assert np.array_equal(a.labels_, b.labels_)
    assert [c.template for c in a.campaigns_] == [c.template for c in b.campaigns_]
    assert np.array_equal(a.similarity_, b.similarity_)
    # another seed changes the hash functions, not the answer on clear cases
    c = CampaignDetector(random_state=11).fit(small_set.texts)
    assert pairwise_scores(a.labels_, c.labels_)["f1"] >= 0.98


def test_fit_predict_matches_fit(small_set) -> None:
    labels = CampaignDetector().fit_predict(small_set.texts[:500])
    assert np.array_equal(labels, CampaignDetector().fit(small_set.texts[:500]).labels_)


def test_short_generic_answers_are_not_campaigns() -> None:
    texts = ["I agree.", "No comment", "Yes", "I agree with the proposal.", "N/A"] * 200
    texts += ["I have no further comments to make on this proposal at this time."] * 50
    det = CampaignDetector().fit(texts)
    assert det.campaigns_ == []
    assert np.all(det.labels_ == -1)


def test_exact_copies_of_a_letter_are_a_campaign() -> None:
    texts = [LETTER] * 6 + ["I agree."] * 20 + [LETTER.replace("GP records", "school records")]
    det = CampaignDetector().fit(texts)
    assert len(det.campaigns_) == 1
    assert det.campaigns_[0].members == [*range(6), 26]
    assert det.campaigns_[0].template == LETTER
    # below min_members it is not a campaign
    assert CampaignDetector(min_members=8).fit(texts).campaigns_ == []


def test_two_campaigns_that_share_a_paragraph_are_not_chained() -> None:
    other = (
        "Dear Minister,\n\nThe proposal should include independent oversight, a public register "
        "of every data sharing agreement and heavy fines for misuse before any data leaves the "
        "NHS.\n\nI support sharing school attendance data with local councils because it helps "
        "them plan transport and catch children missing from education early. Councils already "
        "hold most of this information and the safeguards proposed look proportionate.\n\n"
        "Kind regards,"
    )
    bridge = LETTER.split("\n\n")[0] + "\n\n" + "\n\n".join(other.split("\n\n")[1:])
    texts = [LETTER] * 10 + [other] * 10 + [bridge] * 2
    det = CampaignDetector().fit(texts)
    big = [c for c in det.campaigns_ if c.size >= 10]
    assert len(big) == 2
    assert {frozenset(c.members) >= set(range(10)) for c in big} == {True, False}
    assert len(set(det.labels_[:10]) & set(det.labels_[10:20])) == 0


def test_members_who_replaced_the_same_sentence_are_linked_as_a_variant() -> None:
    variant = (
        LETTER.replace("Dear Sir or Madam,", "Hello there,")
        .replace(
            "I strongly oppose the plan to share GP records with private companies.",
            "My mother's hospital notes were once posted to a neighbour, and since then our "
            "family has refused to let any of our records leave the surgery at all.",
        )
        .replace("Yours faithfully,", "Thanks")
    )
    assert 0.7 <= template_coverage(LETTER, variant) < 0.8
    texts = [LETTER] * 20 + [variant] * 10
    det = CampaignDetector().fit(texts)
    # kept apart (neither similar enough nor containing enough), but linked
    assert [c.size for c in det.campaigns_] == [20, 10]
    assert det.campaigns_[0].template == LETTER and det.campaigns_[0].variant_of is None
    assert det.campaigns_[1].variant_of == 0
    assert det.campaigns_[1].variant_coverage is not None
    assert det.campaigns_[1].variant_coverage >= 0.7
    assert det.labels_.tolist() == [0] * 20 + [1] * 10
    assert det.root_labels_.tolist() == [0] * 30
    unlinked = CampaignDetector(variant_coverage=None).fit(texts)
    assert [c.variant_of for c in unlinked.campaigns_] == [None, None]
    assert np.array_equal(unlinked.root_labels_, unlinked.labels_)


def test_template_coverage() -> None:
    paragraphs = LETTER.split("\n\n")
    assert template_coverage(LETTER, LETTER) == 1.0
    reordered = "\n\n".join([paragraphs[0], paragraphs[2], paragraphs[1], paragraphs[3]])
    assert template_coverage(LETTER, reordered.replace("oversight", "oversihgt")) == 1.0
    assert 0.5 < template_coverage(LETTER, LETTER.replace(paragraphs[2], "")) < 0.8
    assert template_coverage(LETTER, "I agree with the proposal.") == 0.0
    assert template_coverage("", LETTER) == 0.0


def test_empty_and_missing_texts() -> None:
    det = CampaignDetector().fit([])
    assert det.labels_.shape == (0,) and det.campaigns_ == []
    det = CampaignDetector(min_length=0).fit(["", "", "", "", "", None, float("nan")])
    assert det.campaigns_ == []


def test_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        CampaignDetector().fit("one string")
    with pytest.raises(TypeError):
        CampaignDetector().fit([1, 2, 3])
    with pytest.raises(ValueError):
        CampaignDetector(threshold=0).fit(["a"])
    with pytest.raises(ValueError):
        CampaignDetector(shingle_size=20).fit(["a"])


def test_clone_and_get_params() -> None:
    det = CampaignDetector(shingle_size=7, threshold=0.7, min_members=3, random_state=5)
    params = det.get_params()
    assert params["shingle_size"] == 7 and params["threshold"] == 0.7
    assert params["min_members"] == 3 and params["random_state"] == 5
    assert {"min_length", "num_perm", "bands", "containment"} <= set(params)
    twin = clone(det)
    assert twin is not det and twin.get_params() == params
    assert not hasattr(twin, "labels_")
    det.set_params(threshold=0.8)
    assert det.threshold == 0.8
    assert "threshold=0.8" in repr(det)


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
    ],
)
def test_sklearn_estimator_checks_that_apply(check) -> None:
    # the rest of check_estimator feeds numeric arrays; this estimator takes texts
    check("CampaignDetector", CampaignDetector())


def test_result_does_not_depend_on_python_hash_seed(tmp_path) -> None:
    code = (
        "import hashlib\n"
        "from analysis.campaigns import CampaignDetector\n"
        "from benchmarks.campaign_cases import generate\n"
        "d = CampaignDetector().fit(generate(1500, seed=2, max_size=40).texts)\n"
        "print(hashlib.sha256(d.labels_.tobytes() + d.similarity_.tobytes()).hexdigest())\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(out) == 1


@pytest.mark.parametrize("k", [1, 4, 5, 8, 9, 13, 16])
def test_shingle_hashes_match_a_reference(k: int) -> None:
    texts = ["hello world", "ab", "", "x" * 20, "h\u00e9llo w\u00f6rld \u00e9"]
    h, doc = _shingle_hashes(texts, k, np.uint64(1))
    expected = [
        (i, t.encode()[j : j + k])
        for i, t in enumerate(texts)
        for j in range(len(t.encode()) - k + 1)
    ]
    assert doc.tolist() == [i for i, _ in expected]
    # equal k-grams hash alike, different ones differently
    grams = [g for _, g in expected]
    for a in range(len(grams)):
        for b in range(a + 1, len(grams)):
            assert (h[a] == h[b]) == (grams[a] == grams[b])


def test_added_text_returns_the_inserted_sentence() -> None:
    paragraphs = LETTER.split("\n\n")
    member = "\n\n".join([paragraphs[0], paragraphs[1] + " " + OWN, *paragraphs[2:]])
    got = added_text(LETTER, member)
    assert got == OWN
    assert "GP records" not in got and "oversight" not in got


def test_added_text_ignores_small_edits_and_reordering() -> None:
    paragraphs = LETTER.split("\n\n")
    edited = "\n\n".join(["Dear Minister,", paragraphs[2], paragraphs[1], "Regards,"])
    edited = edited.replace("expose", "expsoe").replace(" Patients were never asked and", "")
    assert added_text(LETTER, edited) == ""
    assert added_text(LETTER, LETTER) == ""


def test_added_text_with_replaced_sentence_and_several_additions() -> None:
    second = "My daughter's school records were lost twice by the same contractor last year."
    member = LETTER.replace(
        "Patients were never asked and there is no real way to opt out.", OWN
    ).replace("Yours faithfully,", second + "\n\nYours faithfully,")
    assert added_segments(LETTER, member) == [OWN, second]


def test_added_text_keeps_a_clause_inserted_into_a_template_sentence() -> None:
    clause = "which my surgery already sells to an analytics firm"
    member = LETTER.replace(
        "share GP records with private companies.",
        f"share GP records, {clause}, with private companies.",
    )
    got = added_segments(LETTER, member)
    assert len(got) == 1 and clause in got[0]
    assert "oppose" not in got[0]


def test_added_text_skips_greeting_sign_off_and_name_lines() -> None:
    member = LETTER.replace("Dear Sir or Madam,", "Dear Secretary of State,").replace(
        "Yours faithfully,", "With best wishes from us all,\nPriya Anne Patel"
    )
    assert added_text(LETTER, member) == ""
    # the same words inside the body are the respondent's own
    body = LETTER.replace("Yours faithfully,", "Please listen to us, we are all worried.\n\nBye,")
    assert added_text(LETTER, body) == "Please listen to us, we are all worried."


def test_edit_similarity() -> None:
    assert edit_similarity(LETTER, LETTER) == 1.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("I agree", "") == 0.0
    near = edit_similarity(LETTER, LETTER.replace("Dear Sir or Madam,", "Hello,"))
    far = edit_similarity(LETTER, "I agree with everything in the proposal.")
    assert 0.9 < near < 1.0 and far < 0.2
    assert edit_similarity("A b, C.", "a B c") == 1.0


def test_normalise() -> None:
    assert normalise("  Dear  SIR,\n\nI  object!  ") == "dear sir i object"
