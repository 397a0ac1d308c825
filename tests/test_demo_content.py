"""The demo consultation content: deterministic, well-formed, and exercising every feature."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from app.consultations.pages import REGIONS
from app.demo import content
from app.demo.content import (
    CAMPAIGN_SLUG,
    CAMPAIGN_TEMPLATE,
    DemoConsultation,
    DemoResponse,
    build_demo,
)

NOW = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
STATUSES = {"draft", "open", "closed", "published"}
KINDS = {"open_text", "single_choice", "multi_choice"}
CONSENTS = {"publish", "publish_anonymously", "do_not_publish"}
CHANNELS = {"web", "email", "post", "api"}
GOLD_STANCES = {"support", "oppose", "mixed", "neutral"}


@pytest.fixture(scope="module")
def demo() -> DemoConsultation:
    return build_demo()


def _all(demo: DemoConsultation) -> list[DemoConsultation]:
    return [demo, *demo.extra_consultations]


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def _jaccard(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    return len(ta & tb) / len(ta | tb)


def _open_texts(c: DemoConsultation) -> list[tuple[DemoResponse, str, str]]:
    open_keys = {q.key for p in c.proposals for q in p.questions if q.kind == "open_text"}
    return [
        (r, k, v)
        for r in c.responses
        for k, v in r.answers.items()
        if k in open_keys and isinstance(v, str)
    ]


def test_deterministic() -> None:
    assert build_demo() == build_demo()
    assert build_demo(7) == build_demo(7)
    assert build_demo(7) != build_demo(8)


def test_deterministic_across_processes() -> None:
    """No dependence on hash randomisation (set order) or anything else per process."""
    code = (
        "import hashlib; from app.demo.content import build_demo; "
        "print(hashlib.sha256(repr(build_demo()).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("0", "1", "random")
    }
    assert len(digests) == 1


def test_main_consultation_shape(demo: DemoConsultation) -> None:
    assert demo.slug == "better-use-of-data"
    assert demo.status == "open"
    assert demo.opens_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert demo.closes_at.date().isoformat() == "2027-03-31"
    assert demo.opens_at.tzinfo is not None and demo.closes_at.tzinfo is not None
    assert 4 <= len(demo.proposals) <= 8
    assert demo.title and demo.description


def test_extra_consultations_show_statuses(demo: DemoConsultation) -> None:
    statuses = {c.status for c in demo.extra_consultations}
    assert {"closed", "draft"} <= statuses
    slugs = [c.slug for c in _all(demo)]
    assert len(slugs) == len(set(slugs))
    for c in demo.extra_consultations:
        assert c.extra_consultations == ()
        assert c.opens_at < c.closes_at
        assert len(c.responses) <= 30
        if c.status == "draft":
            assert c.responses == ()
        if c.status == "closed":
            assert c.closes_at < demo.opens_at
            assert c.responses
            for r in c.responses:
                assert c.opens_at <= r.submitted_at <= c.closes_at


@pytest.mark.parametrize("seed", [2016, 1, 99])
def test_counts(seed: int) -> None:
    demo = build_demo(seed)
    total = len(demo.responses)
    assert 300 <= total <= 450
    orgs = sum(r.respondent.kind == "organisation" for r in demo.responses)
    assert 0.12 <= orgs / total <= 0.18
    campaign = [r for r in demo.responses if r.campaign == CAMPAIGN_SLUG]
    assert 50 <= len(campaign) <= 70
    texts = _open_texts(demo)
    with_pii = sum(1 for r, k, _ in texts if k in r.personal_data)
    assert 0.09 <= with_pii / len(texts) <= 0.16


def test_questions(demo: DemoConsultation) -> None:
    for c in _all(demo):
        keys = [q.key for p in c.proposals for q in p.questions]
        assert len(keys) == len(set(keys))
        numbers = [q.number for p in c.proposals for q in p.questions]
        assert len(numbers) == len(set(numbers))
        for p in c.proposals:
            assert p.title and p.summary
            stance = [q for q in p.questions if q.stance_map is not None]
            assert len(stance) == 1
            sq = stance[0]
            assert sq.kind == "single_choice" and sq.required
            assert sq.text == "Do you agree with this proposal?"
            assert sq.options == ("Agree", "Disagree", "Neither agree nor disagree")
            assert sq.stance_map == {
                "Agree": "support",
                "Disagree": "oppose",
                "Neither agree nor disagree": "neutral",
            }
            open_qs = [q for q in p.questions if q.kind == "open_text"]
            assert 1 <= len(open_qs) <= 2
            for q in p.questions:
                assert q.kind in KINDS
                assert re.fullmatch(r"[a-z]\d+_q\d+", q.key)
                assert re.fullmatch(r"\d+[a-z]?", q.number)
                if q.kind == "open_text":
                    assert q.options == () and not q.required
                else:
                    assert len(q.options) >= 2
    multi = [q for p in demo.proposals for q in p.questions if q.kind == "multi_choice"]
    assert multi and all(4 <= len(q.options) <= 5 for q in multi)


def test_themes(demo: DemoConsultation) -> None:
    codes = [t.code for c in _all(demo) for p in c.proposals for t in p.themes]
    assert len(codes) == len(set(codes))
    for c in _all(demo):
        for i, p in enumerate(c.proposals, start=1):
            assert 5 <= len(p.themes) <= 8
            for t in p.themes:
                assert re.fullmatch(r"[A-Z]\d-\d\d", t.code)
                assert t.code.endswith(tuple(f"-{n:02d}" for n in range(1, 9)))
                assert t.code[1] == str(i)
                assert t.label and t.description and t.keywords


def test_enough_templates_per_theme() -> None:
    for spec in [*content._MAIN_SPECS, content._R1]:
        for theme in spec.themes:
            individual = content._templates_for(theme, "individual")
            organisation = content._templates_for(theme, "organisation")
            assert len(theme.templates) >= 6, theme.code
            assert len(individual) >= 5, theme.code
            assert len(organisation) >= 4, theme.code
            # Unmarked templates are used by both: they must be impersonal.
            for t in theme.templates:
                if not t.startswith(("!", "@")):
                    assert not re.search(r"(?<![-\w])(I|my|me|we|our|us)(?![-\w])", t), t


def test_answers_reference_questions_and_options(demo: DemoConsultation) -> None:
    for c in _all(demo):
        questions = {q.key: q for p in c.proposals for q in p.questions}
        stance_keys = {q.key for q in questions.values() if q.stance_map}
        for r in c.responses:
            assert r.answers, "every response answers something"
            for key, value in r.answers.items():
                q = questions[key]
                if q.kind == "open_text":
                    assert isinstance(value, str) and value.strip()
                elif q.kind == "single_choice":
                    assert isinstance(value, str) and value in q.options
                else:
                    assert isinstance(value, tuple) and value
                    assert set(value) <= set(q.options)
                    assert len(value) == len(set(value))
            if r.respondent.channel in ("web", "api"):
                # required questions are answered on the form
                assert stance_keys <= set(r.answers)
            for key, codes in r.gold_themes.items():
                assert questions[key].kind == "open_text" and key in r.answers
                theme_codes = {
                    t.code for p in c.proposals if questions[key] in p.questions for t in p.themes
                }
                assert set(codes) <= theme_codes
                assert list(codes) == sorted(set(codes))
            for key, stance in r.gold_stance.items():
                assert key in stance_keys and stance in GOLD_STANCES
            for key in r.personal_data:
                assert key in r.answers


def test_gold_themes_cover_open_answers(demo: DemoConsultation) -> None:
    for r, key, _ in _open_texts(demo):
        assert key in r.gold_themes
    coded = [r.gold_themes[k] for r, k, _ in _open_texts(demo)]
    assert sum(1 for c in coded if not c) >= 20  # "No comment" and stance-only text
    assert sum(1 for c in coded if len(c) >= 2) >= 100
    used = {code for c in coded for code in c}
    all_codes = {t.code for p in demo.proposals for t in p.themes}
    assert used == all_codes


def test_stance_mostly_consistent(demo: DemoConsultation) -> None:
    agree = disagree = 0
    for r in demo.responses:
        for key, stance in r.gold_stance.items():
            option = r.answers.get(key)
            if isinstance(option, str) and stance != "mixed":
                if content.STANCE_MAP[option] == stance:
                    agree += 1
                else:
                    disagree += 1
    assert disagree > 0
    assert agree / (agree + disagree) > 0.9


def test_respondents(demo: DemoConsultation) -> None:
    for c in _all(demo):
        for r in c.responses:
            p = r.respondent
            assert p.kind in {"individual", "organisation"}
            assert p.region in REGIONS  # a choice the web form offers
            assert p.publication_consent in CONSENTS
            assert p.channel in CHANNELS
            assert c.opens_at <= r.submitted_at
            assert r.submitted_at.tzinfo is not None
            if p.kind == "individual":
                assert p.organisation_name is None and p.organisation_type is None
            else:
                assert p.organisation_name and p.organisation_type
            if p.email is None:
                assert p.channel == "post"
            else:
                assert re.fullmatch(r"[a-z0-9._]+@([a-z0-9-]+\.)*example\.(com|org|net)", p.email)
    assert all(r.submitted_at <= NOW for r in demo.responses)
    times = [r.submitted_at for r in demo.responses]
    assert times == sorted(times)
    emails = [r.respondent.email for r in demo.responses if r.respondent.email]
    assert len(emails) == len(set(emails))
    channels = {r.respondent.channel for r in demo.responses}
    assert channels == CHANNELS
    org_types = {r.respondent.organisation_type for r in demo.responses} - {None}
    assert {"charity", "local authority", "business", "academic", "public body"} <= org_types
    assert len({r.respondent.organisation_name for r in demo.responses} - {None}) == sum(
        r.respondent.kind == "organisation" for r in demo.responses
    )


def test_campaign(demo: DemoConsultation) -> None:
    members = [r for r in demo.responses if r.campaign == CAMPAIGN_SLUG]
    assert {r.campaign for r in demo.responses} == {None, CAMPAIGN_SLUG}
    texts = [r.answers["p1_q2"] for r in members]
    assert all(isinstance(t, str) for t in texts)
    assert all(r.respondent.kind == "individual" for r in members)
    similarities = [_jaccard(str(t), CAMPAIGN_TEMPLATE) for t in texts]
    assert min(similarities) >= 0.8
    # near-identical, not identical: most letters carry some edit
    assert sum(1 for t in texts if t != CAMPAIGN_TEMPLATE) >= len(texts) * 0.6
    assert len(set(texts)) >= len(texts) * 0.5
    assert all(r.gold_stance["p1_q1"] == "oppose" for r in members)
    # nobody outside the campaign is near the template
    others = [v for r, k, v in _open_texts(demo) if r.campaign is None]
    assert max(_jaccard(v, CAMPAIGN_TEMPLATE) for v in others) < 0.5


def test_personal_data(demo: DemoConsultation) -> None:
    texts = _open_texts(demo)
    with_pii = [(r, k, v) for r, k, v in texts if k in r.personal_data]
    assert 0.09 <= len(with_pii) / len(texts) <= 0.16
    joined = "\n".join(v for _, _, v in with_pii)
    assert re.search(r"07700 ?900\d{3}|7700 900\d{3}", joined)
    assert re.search(r"020\)? 7946 0\d{3}", joined)
    assert re.search(r"\bQQ ?\d\d ?\d\d ?\d\d ?[A-D]\b", joined)
    assert re.search(r"\b[A-Z]{1,2}\d{1,2} \d[A-Z]{2}\b", joined)
    assert re.search(r"@([a-z0-9-]+\.)*example\.(com|org|net)", joined)
    assert "My name is" in joined or "Kind regards" in joined
    for r, key, text in with_pii:
        for item in r.personal_data[key]:
            assert item in text
        name = r.respondent.name
        if name and ("My name is" in text or "Kind regards" in text):
            assert name in text
        if r.respondent.email and "@" in text:
            assert r.respondent.email in text
    # answers without recorded personal data contain none of the obvious kinds
    for r, key, text in texts:
        if key not in r.personal_data:
            assert not re.search(r"@|07700|7946|\bQQ ?\d", text), text


def test_organisation_answers_are_not_first_person_singular(demo: DemoConsultation) -> None:
    for r, _, text in _open_texts(demo):
        if r.respondent.kind == "organisation":
            assert not re.search(r"\b(I|my|me)\b", text), text


def test_answers_vary(demo: DemoConsultation) -> None:
    texts = [v for r, k, v in _open_texts(demo) if r.campaign is None and r.gold_themes[k]]
    assert len(set(texts)) >= 0.9 * len(texts)
    lengths = [len(re.findall(r"[.!?](?:\s|$)", t)) for t in texts]
    assert min(lengths) <= 1 and max(lengths) >= 6
    typos = sum(1 for t in texts if re.search(r"goverment|recieve|infomation|becuase", t))
    assert typos >= 3
