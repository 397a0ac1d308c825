"""The analyst's home, a proposal's theme overview and the answer browser in headless Chromium,
without JavaScript: chart and table agree, GET filters, links to a theme's answers, paging,
text search, and links to the coding editor."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.codeframes import service as codeframes
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding.service import ModelCoding, ModelStance, write_model_codings, write_model_stances
from app.consultations import service as consultations_service
from app.enums import Role, Stance
from app.responses.models import Answer
from app.users.models import User
from tests.browser.conftest import Committed, sync_url

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
N = 25
WORDS = ["apples", "bridges", "candles", "dolphins", "engines"]
Query = Callable[..., list[tuple[Any, ...]]]


def kind(i: int) -> str:
    return "organisation" if i % 5 == 0 else "individual"


def region(i: int) -> str:
    return "London" if i % 2 else "Wales"


def themes_of(i: int) -> list[int]:
    """Indexes of the themes answer i is coded with (0 Privacy, 1 Cost, 2 Health)."""
    return [t for t, every in enumerate((2, 3, 5)) if i % every == 0]


def add_answers(database_url: str, consultation_id: Any, question_id: Any) -> list[uuid.UUID]:
    ids = []
    with psycopg.connect(sync_url(database_url), autocommit=True) as conn:
        for i in range(N):
            respondent, response, answer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            conn.execute(
                "INSERT INTO respondents (id, consultation_id, kind, region, organisation_name,"
                " publication_consent, channel) VALUES (%s, %s, %s, %s, %s, 'publish', 'web')",
                (respondent, consultation_id, kind(i), region(i), "Org" if i % 5 == 0 else None),
            )
            conn.execute(
                "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, status,"
                " channel) VALUES (%s, %s, %s, %s, 'received', 'web')",
                (response, consultation_id, respondent, uuid.uuid4().hex[:14]),
            )
            words = f"Answer {i} mentions {WORDS[i % 5]}; contact me at person{i}@example.org"
            conn.execute(
                "INSERT INTO answers (id, response_id, question_id, text, redacted_text)"
                " VALUES (%s, %s, %s, %s, %s)",
                (answer, response, question_id, words, words.split("; contact")[0] + "; [EMAIL]"),
            )
            ids.append(answer)
    return ids


def sign_in(page: Page, email: str, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_overview_chart_table_filters_and_answer_browser(
    page: Page, committed: Committed, tmp_path: Path
) -> None:
    detail = committed.consultation(status="open")
    email = committed.user(password=PASSWORD, role=Role.analyst)
    proposal = detail.proposals[0]
    answers = add_answers(committed.database_url, detail.id, proposal.questions[0].id)

    async def prepare() -> list[str]:
        async with committed.server.app.state.sessionmaker() as session:
            await consultations_service.add_member(session, slug=detail.slug, email=email)
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            draft = await codeframes.create_codeframe(
                session,
                proposal_id=proposal.id,
                user=user,
                data=CodeframeCreate(
                    themes=[
                        ThemeIn(label="Privacy"),
                        ThemeIn(label="Cost"),
                        ThemeIn(label="Health"),
                    ]
                ),
            )
            published = await codeframes.publish(session, codeframe_id=draft.id, user=user)
            theme_ids = [t.id for t in published.themes]
            await write_model_codings(
                session,
                codeframe_id=published.id,
                run_id=uuid.uuid4(),
                codings=[
                    ModelCoding(a, theme_ids[t], True, 0.75, {"terms": [[WORDS[i % 5], 0.5]]})
                    for i, a in enumerate(answers)
                    for t in themes_of(i)
                ],
            )
            responses = dict(
                (
                    await session.execute(
                        select(Answer.id, Answer.response_id).where(Answer.id.in_(answers))
                    )
                ).all()
            )
            await write_model_stances(
                session,
                proposal_id=proposal.id,
                run_id=uuid.uuid4(),
                stances=[
                    ModelStance(responses[a], Stance.oppose if i % 4 == 0 else Stance.support)
                    for i, a in enumerate(answers)
                ],
            )
            await session.commit()
            return [t.code for t in published.themes]

    codes = committed.server.call(prepare)
    privacy, cost = codes[0], codes[1]

    # The analyst home lists the consultation's proposals.
    sign_in(page, email, "/analyse")
    page.get_by_role("link", name=proposal.title, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/analyse/proposals/{proposal.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.title)
    expect(page.locator("#summary-scope")).to_contain_text(f"{N} answers in scope")

    # Chart and table show the same figures; the chart carries them as text too.
    counts = {t: sum(1 for i in range(N) if t in themes_of(i)) for t in range(3)}
    table = page.locator("#theme-table tbody tr")
    expect(table).to_have_count(3)
    expect(table.nth(0)).to_contain_text(f"{privacy} Privacy")
    expect(table.nth(0)).to_contain_text(str(counts[0]))
    expect(table.nth(0)).to_contain_text(f"{counts[0] / N:.1%}")
    svg = page.locator("svg[role='img']")
    expect(svg).to_be_visible()
    description = page.locator("#chart-desc").text_content() or ""
    assert f"{privacy} Privacy: {counts[0]} of {N} answers ({counts[0] / N:.1%})" in description
    assert f"{cost} Cost: {counts[1]} of {N} answers" in description
    bars = page.locator("svg .consult-chart__bar")
    expect(bars).to_have_count(3)
    expect(bars.nth(0)).to_contain_text(f"{counts[0]} ({counts[0] / N:.1%})")
    shot = tmp_path / "overview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")

    # Filters are a plain GET form.
    page.get_by_label("Respondent type").select_option("organisation")
    page.get_by_label("Stance on the proposal").select_option("oppose")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"respondent_kind=organisation.*stance=oppose"))
    kept = [i for i in range(N) if kind(i) == "organisation" and i % 4 == 0]
    expect(page.locator("#summary-scope")).to_contain_text(f"{len(kept)} answer")
    want = sum(1 for i in kept if 0 in themes_of(i))
    expect(page.locator("#theme-table tbody tr").filter(has_text="Privacy")).to_contain_text(
        str(want)
    )

    # Each theme links to its answers under the same filters.
    page.get_by_role("link", name=f"{privacy} Privacy").click()
    expect(page).to_have_url(re.compile(rf"/analyse/proposals/{proposal.id}/answers\?"))
    expect(page.get_by_label("Theme")).to_have_value(privacy)
    items = page.locator("#answer-list > li")
    expect(items).to_have_count(want)
    expect(items.first).to_contain_text("Organisation")
    expect(items.first).to_contain_text("[EMAIL]")
    expect(page.locator("#answer-list")).not_to_contain_text("@example.org")

    # All answers, two pages of 20, each linking to the coding editor.
    page.get_by_role("link", name="Clear filters").click()
    expect(items).to_have_count(20)
    expect(page.locator("#results")).to_contain_text(f"{N} answers")
    links = page.locator("#answer-list a[href^='/analyse/answers/']")
    expect(links).to_have_count(20)
    hrefs = {links.nth(i).get_attribute("href") for i in range(20)}
    page.get_by_role("link", name=re.compile("Next")).click()
    expect(items).to_have_count(N - 20)
    hrefs |= {links.nth(i).get_attribute("href") for i in range(N - 20)}
    assert hrefs == {f"/analyse/answers/{a}" for a in answers}
    page.get_by_role("link", name=re.compile("Previous")).click()
    expect(items).to_have_count(20)

    # Text search on the redacted text, combined with a theme.
    page.get_by_label("Words in the answer").fill("dolphins")
    page.get_by_label("Theme").select_option(cost)
    page.get_by_role("button", name="Apply filters").click()
    found = [i for i in range(N) if WORDS[i % 5] == "dolphins" and 1 in themes_of(i)]
    expect(items).to_have_count(len(found))
    for i in range(len(found)):
        expect(items.nth(i)).to_contain_text("dolphins")
        expect(items.nth(i)).to_contain_text(f"{cost} by the model, confidence 0.75")
        expect(items.nth(i)).to_contain_text("Evidence: dolphins.")
