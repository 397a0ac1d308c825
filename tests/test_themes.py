"""Theme summary and theme answers: counts stay equal to a direct count through every kind of
change (codings, stances, campaign membership, response status), filters, paging, access."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.models import Campaign
from app.coding.service import ModelCoding, ModelStance, write_model_codings, write_model_stances
from app.enums import RespondentKind, Role
from app.enums import Stance as StanceValue
from app.responses.models import Answer, Response
from app.themes import service
from app.themes.schemas import CampaignMode, Filters, StanceFilter
from tests.conftest import Users, bearer
from tests.factories import question_ids, submission
from tests.test_codeframes import World, make_world

RESPONDENTS = [
    # (kind, region, text)
    ("individual", "London", "Please protect my privacy, write to jo@example.org."),
    ("individual", "Wales", "Security of the systems worries me."),
    ("organisation", "London", "Better services would help our members."),
    ("individual", None, "Privacy and security both matter here."),
    ("organisation", "Wales", "We support better services with safeguards."),
    ("individual", "London", "Keep my data private."),
    ("individual", "Wales", "No comment on this one really."),
    ("individual", "London", "Privacy first, services second."),
]


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users) -> World:
    return await make_world(client, users)


async def respond(world: World, session: AsyncSession) -> list[uuid.UUID]:
    """One response per RESPONDENTS row; returns the ids of their open-text answers."""
    ids = question_ids(world.detail)
    answers = []
    for i, (kind, region, words) in enumerate(RESPONDENTS):
        extra: dict[str, Any] = {"kind": kind}
        if region:
            extra["region"] = region
        if kind == "organisation":
            extra["organisation_name"] = f"Org {i}"
        body = submission(world.detail, **extra)
        body["answers"][0]["text"] = words
        created = await world.client.post(
            f"/api/v1/consultations/{world.detail['slug']}/responses", json=body
        )
        assert created.status_code == 201, created.text
        answer_id = await session.scalar(
            select(Answer.id)
            .join(Response, Response.id == Answer.response_id)
            .where(
                Response.receipt_code == created.json()["receipt_code"],
                Answer.question_id == uuid.UUID(ids["1"]),
            )
        )
        assert answer_id is not None
        answers.append(answer_id)
    return answers


DIRECT_CODINGS = text(
    """
    SELECT t.code, p.kind, coalesce(p.region, ''), s.value, r.campaign_id
    FROM codings c
    JOIN themes t ON t.id = c.theme_id
    JOIN codeframes f ON f.id = c.codeframe_id
    JOIN answers a ON a.id = c.answer_id
    JOIN responses r ON r.id = a.response_id
    JOIN respondents p ON p.id = r.respondent_id
    LEFT JOIN stances s ON s.response_id = r.id AND s.proposal_id = f.proposal_id
                        AND s.is_current
    WHERE c.codeframe_id = :codeframe AND c.is_current AND c.present AND r.status = 'received'
    """
)
DIRECT_ANSWERS = text(
    """
    SELECT p.kind, coalesce(p.region, ''), s.value, r.campaign_id
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    JOIN responses r ON r.id = a.response_id
    JOIN respondents p ON p.id = r.respondent_id
    LEFT JOIN stances s ON s.response_id = r.id AND s.proposal_id = q.proposal_id
                        AND s.is_current
    WHERE q.proposal_id = :proposal AND q.kind = 'open_text' AND r.status = 'received'
      AND a.text IS NOT NULL AND btrim(a.text) <> ''
    """
)


def _keep(row: tuple[Any, ...], filters: Filters, campaign_side: str) -> bool:
    kind, region, stance, campaign = row
    if filters.respondent_kind is not None and kind != filters.respondent_kind.value:
        return False
    if filters.region and region != filters.region:
        return False
    if filters.stance == StanceFilter.none and stance is not None:
        return False
    if filters.stance not in (None, StanceFilter.none) and stance != filters.stance.value:
        return False
    if campaign_side == "outside":
        return campaign is None
    if campaign_side == "inside":
        return campaign is not None
    return True


async def direct(
    session: AsyncSession, proposal_id: str, codeframe_id: str, filters: Filters
) -> dict[str, Any]:
    """The summary computed the slow way, from the live tables."""
    side = {
        CampaignMode.include: "all",
        CampaignMode.only: "inside",
    }.get(filters.campaign, "outside")
    codings = list(await session.execute(DIRECT_CODINGS, {"codeframe": codeframe_id}))
    answers = list(await session.execute(DIRECT_ANSWERS, {"proposal": proposal_id}))
    counts = Counter(r[0] for r in codings if _keep(tuple(r[1:]), filters, side))
    n = sum(1 for r in answers if _keep(tuple(r), filters, side))
    out: dict[str, Any] = {"n": n, "counts": dict(counts)}
    if filters.campaign == CampaignMode.separate:
        out["campaigns"] = {
            str(c): (
                dict(
                    Counter(
                        r[0] for r in codings if r[4] == c and _keep(tuple(r[1:]), filters, "all")
                    )
                ),
                sum(1 for r in answers if r[3] == c and _keep(tuple(r), filters, "all")),
            )
            for c in {r[3] for r in answers if r[3] is not None}
        }
    return out


FILTER_GRID = [
    Filters(respondent_kind=k, region=r, stance=s, campaign=c)
    for k, r, s, c in itertools.product(
        [None, RespondentKind.individual, RespondentKind.organisation],
        [None, "London", "Wales"],
        [None, StanceFilter.support, StanceFilter.oppose, StanceFilter.none],
        [CampaignMode.include, CampaignMode.exclude, CampaignMode.separate, CampaignMode.only],
    )
]


async def assert_summary_is_exact(
    world: World, session: AsyncSession, codeframe_id: str, version: int | None = None
) -> None:
    for filters in FILTER_GRID:
        got = await service.summary(
            session,
            proposal_id=uuid.UUID(world.proposal_id),
            user=None,
            filters=filters,
            version=version,
        )
        want = await direct(session, world.proposal_id, codeframe_id, filters)
        assert got.n == want["n"], filters
        assert {t.code: t.count for t in got.themes if t.count} == want["counts"], filters
        for theme in got.themes:
            assert theme.share == (round(theme.count / got.n, 6) if got.n else None)
        if filters.campaign == CampaignMode.separate:
            columns = {str(c.campaign_id): c.n for c in got.campaigns}
            assert columns == {k: v[1] for k, v in want["campaigns"].items()}, filters
            for theme in got.themes:
                for cell in theme.campaigns:
                    expected = want["campaigns"][str(cell.campaign_id)][0].get(theme.code, 0)
                    assert cell.count == expected, (filters, theme.code)
    # The triggers' running totals equal a recount from scratch.
    before = await count_rows(session)
    await session.execute(text("SELECT theme_counts_rebuild(NULL)"))
    assert await count_rows(session) == before


async def count_rows(session: AsyncSession) -> set[tuple[Any, ...]]:
    rows = await session.execute(text("SELECT * FROM theme_counts WHERE n <> 0"))
    answers = await session.execute(text("SELECT * FROM answer_counts WHERE n <> 0"))
    return {("t", *r) for r in rows} | {("a", *r) for r in answers}


async def test_summary_stays_exact_through_every_kind_of_change(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    theme = {t["code"]: uuid.UUID(t["id"]) for t in v1["themes"]}
    answers = await respond(world, session)
    await assert_summary_is_exact(world, session, v1["id"])  # nothing coded yet

    # Human codings with stances.
    plan = [
        (["P1-01"], "support"),
        (["P1-02"], "oppose"),
        (["P1-03"], "support"),
        (["P1-01", "P1-02"], None),
        (["P1-03"], "support"),
        (["P1-01"], "oppose"),
        ([], "neutral"),
    ]
    for answer, (codes, stance) in zip(answers, plan, strict=False):
        extra = {"stance": stance} if stance else {}
        coded = await world.code(str(answer), v1["id"], codes, **extra)
        assert coded.status_code == 200, coded.text
    await assert_summary_is_exact(world, session, v1["id"])
    summary = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/themes/summary", headers=world.headers
    )
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["n"] == len(RESPONDENTS) and body["unit"] == "answer"
    assert {t["code"]: t["count"] for t in body["themes"]} == {"P1-01": 3, "P1-02": 2, "P1-03": 2}
    assert body["themes"][0]["share"] == round(3 / 8, 6)

    # Recoding supersedes: counts move with the current decision.
    assert (await world.code(str(answers[0]), v1["id"], ["P1-02", "P1-03"])).status_code == 200
    # A stance changes.
    assert (await world.code(str(answers[1]), v1["id"], ["P1-02"], stance="support")).is_success
    await assert_summary_is_exact(world, session, v1["id"])

    # Model codings and stances (a run), then another run superseding it.
    for run in (uuid.uuid4(), uuid.uuid4()):
        await write_model_codings(
            session,
            codeframe_id=uuid.UUID(v1["id"]),
            run_id=run,
            codings=[
                ModelCoding(answers[7], theme["P1-01"], True, 0.9, {"terms": ["privacy"]}),
                ModelCoding(answers[7], theme["P1-03"], run.int % 2 == 0, 0.6),
                ModelCoding(answers[6], theme["P1-02"], False, 0.2),
            ],
        )
        response_7 = await session.scalar(select(Answer.response_id).where(Answer.id == answers[7]))
        assert response_7 is not None
        await write_model_stances(
            session,
            proposal_id=uuid.UUID(world.proposal_id),
            run_id=run,
            stances=[
                ModelStance(response_7, StanceValue.oppose if run.int % 2 else StanceValue.mixed)
            ],
        )
        await assert_summary_is_exact(world, session, v1["id"])

    # Campaign membership: two responses join a campaign, one moves to another, one leaves.
    responses = [
        await session.scalar(select(Answer.response_id).where(Answer.id == a)) for a in answers
    ]
    consultation_id = await session.scalar(
        select(Response.consultation_id).where(Response.id == responses[0])
    )
    first = Campaign(consultation_id=consultation_id, template_text="t", member_count=3, label="A")
    second = Campaign(consultation_id=consultation_id, template_text="t", member_count=1, label="B")
    session.add_all([first, second])
    await session.flush()
    await session.execute(
        update(Response).where(Response.id.in_(responses[:3])).values(campaign_id=first.id)
    )
    await session.execute(
        update(Response).where(Response.id == responses[3]).values(campaign_id=second.id)
    )
    await assert_summary_is_exact(world, session, v1["id"])
    separate = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/themes/summary?campaign=separate",
        headers=world.headers,
    )
    assert separate.status_code == 200
    assert [(c["label"], c["n"]) for c in separate.json()["campaigns"]] == [("A", 3), ("B", 1)]
    assert separate.json()["n"] == len(RESPONDENTS) - 4
    await session.execute(
        update(Response).where(Response.id == responses[2]).values(campaign_id=second.id)
    )
    await session.execute(
        update(Response).where(Response.id == responses[1]).values(campaign_id=None)
    )
    await assert_summary_is_exact(world, session, v1["id"])
    # Deleting a campaign sets its members' campaign to NULL (an UPDATE the triggers see).
    await session.delete(second)
    await session.flush()
    await assert_summary_is_exact(world, session, v1["id"])

    # Response status: exclusion and withdrawal drop a response, inclusion brings it back.
    excluded = await world.client.post(
        f"/api/v1/responses/{responses[0]}/exclude",
        json={"reason": "Duplicate"},
        headers=world.headers,
    )
    assert excluded.status_code == 200, excluded.text
    await session.execute(
        update(Response).where(Response.id == responses[4]).values(status="withdrawn")
    )
    await assert_summary_is_exact(world, session, v1["id"])
    included = await world.client.post(
        f"/api/v1/responses/{responses[0]}/include", headers=world.headers
    )
    assert included.status_code == 200, included.text
    await assert_summary_is_exact(world, session, v1["id"])

    # A respondent's kind or region changes.
    await session.execute(
        text(
            "UPDATE respondents SET region = 'Wales', kind = 'organisation',"
            " organisation_name = 'X' WHERE id = (SELECT respondent_id FROM responses"
            " WHERE id = :r)"
        ),
        {"r": responses[5]},
    )
    await assert_summary_is_exact(world, session, v1["id"])

    # A new codeframe version: codings carried to v2; v1 stays readable by version.
    draft = await world.codeframe(
        {
            "based_on": v1["id"],
            "operations": [
                {
                    "op": "merge",
                    "codes": ["P1-01", "P1-02"],
                    "into": {"label": "Privacy and security"},
                }
            ],
        }
    )
    v2 = await world.publish(draft["id"])
    await assert_summary_is_exact(world, session, v2["id"])
    await assert_summary_is_exact(world, session, v1["id"], version=1)

    # Deleting rows directly (never done by the app) recounts the affected proposal.
    await session.execute(text("DELETE FROM responses WHERE id = :r"), {"r": responses[6]})
    await session.execute(text("DELETE FROM answers WHERE id = :a"), {"a": answers[7]})
    await session.execute(text("DELETE FROM stances WHERE response_id = :r"), {"r": responses[3]})
    await session.execute(
        text("DELETE FROM codings WHERE answer_id = :a AND NOT is_current"), {"a": answers[0]}
    )
    await assert_summary_is_exact(world, session, v2["id"])


async def test_summary_errors_and_access(world: World, session: AsyncSession) -> None:
    url = f"/api/v1/proposals/{world.proposal_id}/themes/summary"
    none_yet = await world.client.get(url, headers=world.headers)
    assert none_yet.status_code == 409 and none_yet.json()["code"] == "no_published_codeframe"
    await world.published()
    for query in ("stance=happy", "campaign=maybe", "respondent_kind=robot", "version=0"):
        bad = await world.client.get(f"{url}?{query}", headers=world.headers)
        assert bad.status_code == 422 and bad.json()["code"] == "validation_failed", query
    missing = await world.client.get(f"{url}?version=7", headers=world.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    nowhere = await world.client.get(
        f"/api/v1/proposals/{uuid.uuid4()}/themes/summary", headers=world.headers
    )
    assert nowhere.status_code == 404
    # Reviewers who are members see the counts but not the answers behind them.
    reviewer = bearer(await world.users.token(Role.reviewer, member_of=["coding"]))
    assert (await world.client.get(url, headers=reviewer)).status_code == 200
    quotes = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/themes/P1-01/answers", headers=reviewer
    )
    assert quotes.status_code == 403 and quotes.json()["code"] == "forbidden"


async def test_theme_answers_pages_redacted_quotes_with_evidence(
    world: World, session: AsyncSession
) -> None:
    v1 = await world.published()
    theme = {t["code"]: uuid.UUID(t["id"]) for t in v1["themes"]}
    answers = await respond(world, session)
    privacy = [a for a, (_, _, words) in zip(answers, RESPONDENTS, strict=True) if "riva" in words]
    for answer in privacy[:2]:
        assert (await world.code(str(answer), v1["id"], ["P1-01"])).status_code == 200
    await write_model_codings(
        session,
        codeframe_id=uuid.UUID(v1["id"]),
        run_id=uuid.uuid4(),
        codings=[
            ModelCoding(
                a, theme["P1-01"], True, 0.83, {"terms": [["privacy", 0.41]], "examples": []}
            )
            for a in privacy[2:]
        ],
    )
    url = f"/api/v1/proposals/{world.proposal_id}/themes/P1-01/answers"
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await world.client.get(
            url, params={"limit": 2, **({"after": after} if after else {})}, headers=world.headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == len(privacy)
        seen += [item["answer_id"] for item in body["items"]]
        pages += 1
        after = body["next_cursor"]
        if after is None:
            break
    assert sorted(seen) == sorted(str(a) for a in privacy) and len(seen) == len(set(seen))
    assert pages == (len(privacy) + 1) // 2
    everything = (await world.client.get(url, params={"limit": 100}, headers=world.headers)).json()
    texts = " ".join(i["redacted_text"] for i in everything["items"])
    assert "jo@example.org" not in texts and "[EMAIL" in texts.upper()
    model = [i for i in everything["items"] if i["coding"]["source"] == "model"]
    assert model and all(i["coding"]["confidence"] == 0.83 for i in model)
    assert model[0]["coding"]["evidence"] == {"terms": [["privacy", 0.41]], "examples": []}
    assert all("P1-01" in i["codes"] for i in everything["items"])
    # Filters and text search apply to the quotes.
    wales = (await world.client.get(url, params={"region": "Wales"}, headers=world.headers)).json()
    assert all(i["region"] == "Wales" for i in wales["items"])
    found = (await world.client.get(url, params={"q": "first"}, headers=world.headers)).json()
    assert [i["redacted_text"] for i in found["items"]] == ["Privacy first, services second."]
    assert found["total"] is None
    unknown = await world.client.get(
        f"/api/v1/proposals/{world.proposal_id}/themes/P9-99/answers", headers=world.headers
    )
    assert unknown.status_code == 404
    bad = await world.client.get(url, params={"after": "x"}, headers=world.headers)
    assert bad.status_code == 422


async def test_pages_overview_and_answer_browser(world: World, session: AsyncSession) -> None:
    page_url = f"/analyse/proposals/{world.proposal_id}"
    html = {"accept": "text/html"}
    unsigned = await world.client.get(page_url, headers=html)
    assert unsigned.status_code == 303
    assert unsigned.headers["location"].startswith("/login?next=%2Fanalyse%2Fproposals%2F")
    no_codeframe = await world.client.get(page_url, headers=world.headers | html)
    assert no_codeframe.status_code == 200
    assert "no published codeframe" in no_codeframe.text
    v1 = await world.published()
    answers = await respond(world, session)
    for answer, codes in zip(answers, (["P1-01"], ["P1-02"], ["P1-01", "P1-03"]), strict=False):
        assert (await world.code(str(answer), v1["id"], codes)).status_code == 200

    home = await world.client.get("/analyse", headers=world.headers | html)
    assert home.status_code == 200 and f'href="{page_url}"' in home.text

    overview = await world.client.get(page_url, headers=world.headers | html)
    assert overview.status_code == 200
    text_ = overview.text
    assert "<svg" in text_ and 'role="img"' in text_
    assert "P1-01 Privacy: 2 of 8 answers (25.0%)" in text_  # the chart's text alternative
    assert f"/analyse/proposals/{world.proposal_id}/answers?theme=P1-01" in text_
    filtered = await world.client.get(
        page_url,
        params={"region": "Wales", "stance": "", "campaign": "separate"},
        headers=world.headers | html,
    )
    assert filtered.status_code == 200
    assert "P1-02 Security: 1 of 3 answers (33.3%)" in filtered.text

    browser_url = f"/analyse/proposals/{world.proposal_id}/answers"
    everything = await world.client.get(browser_url, headers=world.headers | html)
    assert everything.status_code == 200
    assert everything.text.count('href="/analyse/answers/') == len(RESPONDENTS)
    assert "jo@example.org" not in everything.text
    privacy = await world.client.get(
        browser_url, params={"theme": "P1-01"}, headers=world.headers | html
    )
    assert privacy.text.count('href="/analyse/answers/') == 2
    search = await world.client.get(
        browser_url, params={"q": "members"}, headers=world.headers | html
    )
    assert search.text.count('href="/analyse/answers/') == 1
    assert "Better services would help our members." in search.text

    bad = await world.client.get(page_url, params={"stance": "happy"}, headers=world.headers | html)
    assert bad.status_code == 422
    reviewer = bearer(await world.users.token(Role.reviewer, member_of=["coding"]))
    assert (await world.client.get(page_url, headers=reviewer | html)).status_code == 403
