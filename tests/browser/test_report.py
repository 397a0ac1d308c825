"""The published report in headless Chromium: rendered, screenshotted (screen and print),
charts and tables present, readable without JavaScript."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.codeframes import service as codeframes_service
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding import service as coding_service
from app.coding.schemas import CodesIn
from app.consultations import service as consultations_service
from app.enums import Role
from app.users import service as users_service
from tests.browser.conftest import Committed

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ANSWERS = [
    ("individual", "publish", "Services would get better and faster for people.", "Agree", ["A"]),
    (
        "organisation",
        "publish",
        "We back this, with independent oversight of access.",
        "Agree",
        ["A", "B"],
    ),
    (
        "individual",
        "do_not_publish",
        "I do not want my data shared at all, ever.",
        "Disagree",
        ["C"],
    ),
    (
        "organisation",
        "publish_anonymously",
        "Privacy risks outweigh the benefits here.",
        "Disagree",
        ["C"],
    ),
]


def published_consultation(committed: Committed) -> str:
    detail = committed.consultation(status="open")
    slug = detail.slug
    questions = detail.proposals[0].questions
    with httpx.Client(base_url=committed.server.url) as client:
        for kind, consent, text, stance, _ in ANSWERS:
            respondent: dict[str, Any] = {"kind": kind, "publication_consent": consent}
            if kind == "organisation":
                respondent["organisation_name"] = f"Org {uuid.uuid4().hex[:6]}"
            sent = client.post(
                f"/api/v1/consultations/{slug}/responses",
                json={
                    "respondent": respondent,
                    "answers": [
                        {"question_id": str(questions[0].id), "text": text},
                        {"question_id": str(questions[1].id), "options": [stance]},
                    ],
                },
            )
            assert sent.status_code == 201, sent.text
    email = f"browser-{uuid.uuid4().hex[:12]}@example.org"
    committed.emails.append(email)

    async def code() -> None:
        from sqlalchemy import text as sql

        async with committed.server.app.state.sessionmaker() as session:
            user, _ = await users_service.create_user(
                session, email=email, role=Role.analyst, name="Report Analyst"
            )
            await consultations_service.add_member(session, slug=slug, email=email)
            frame = await codeframes_service.create_codeframe(
                session,
                proposal_id=detail.proposals[0].id,
                user=user,
                data=CodeframeCreate(
                    themes=[
                        ThemeIn(label="Better services"),
                        ThemeIn(label="Oversight needed"),
                        ThemeIn(label="Privacy concerns"),
                    ]
                ),
            )
            published = await codeframes_service.publish(session, codeframe_id=frame.id, user=user)
            codes = {"A": "P1-01", "B": "P1-02", "C": "P1-03"}
            rows = await session.execute(
                sql(
                    "SELECT a.id, a.text FROM answers a JOIN responses r ON r.id = a.response_id "
                    "JOIN consultations c ON c.id = r.consultation_id "
                    "WHERE c.slug = :slug AND a.question_id = :q"
                ),
                {"slug": slug, "q": questions[0].id},
            )
            themes = {text: letters for _, _, text, _, letters in ANSWERS}
            stance = {text: s for _, _, text, s, _ in ANSWERS}
            for answer_id, text in rows.all():
                await coding_service.set_codes(
                    session,
                    answer_id=answer_id,
                    user=user,
                    data=CodesIn(
                        codeframe_id=published.id,
                        themes=[codes[c] for c in themes[text]],
                        stance="support" if stance[text] == "Agree" else "oppose",  # type: ignore[arg-type]
                    ),
                )
            for action in ("close", "publish"):
                await consultations_service.change_status(session, slug=slug, action=action)
            await session.commit()

    committed.server.call(code)
    return slug


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 10_000 and data.startswith(PNG_MAGIC), path


def test_report_renders_with_charts_and_tables(
    page: Page, committed: Committed, tmp_path: Path
) -> None:
    slug = published_consultation(committed)
    page.goto(f"/c/{slug}/report")
    expect(page.get_by_role("heading", level=1)).to_have_text("Better use of data")
    expect(page.get_by_role("heading", name="Counts are not votes")).to_be_visible()

    themes = page.locator("table#themes-1")
    expect(themes).to_be_visible()
    expect(themes.locator("tbody tr")).to_have_count(3)
    expect(themes.locator("tbody tr").nth(2)).to_contain_text("P1-03 Privacy concerns")
    stance = page.locator("table#stance-1")
    expect(stance).to_be_visible()

    # Every chart is an image with an accessible name, drawn beside its table.
    charts = page.get_by_role("img")
    titles = [c.get_attribute("aria-labelledby") for c in charts.all()]
    assert len(titles) == 3  # themes and stance of proposal 1 (proposal 2: no answers), channels
    theme_chart = page.get_by_role("img", name="Proposal 1: share of answers mentioning each theme")
    expect(theme_chart).to_be_visible()
    bars = theme_chart.locator("rect.consult-chart__bar")
    assert bars.count() == 6  # 3 themes x (individuals, organisations)
    widths = [float(b.get_attribute("width") or 0) for b in bars.all()]
    assert max(widths) > 0
    chart_box = theme_chart.bounding_box()
    table_box = themes.bounding_box()
    assert chart_box and table_box and chart_box["height"] > 50

    # Quotes from consenting respondents only.
    expect(page.get_by_text("Services would get better")).to_be_visible()
    assert page.get_by_text("I do not want my data shared").count() == 0

    # The method section.
    expect(page.get_by_role("heading", name="How the responses were analysed")).to_be_visible()
    expect(page.locator("table#codeframes")).to_contain_text("Created with 3 themes")

    screen = tmp_path / "report.png"
    page.screenshot(path=str(screen), full_page=True)
    assert_png(screen)
    if keep := os.environ.get("CONSULT_KEEP_SCREENSHOTS"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(keep) / "report.png"), full_page=True)

    # Print: navigation hidden, tables and charts still there; a PDF renders.
    page.emulate_media(media="print")
    expect(page.locator(".govuk-header")).to_be_hidden()
    expect(page.locator(".consult-report__contents")).to_be_hidden()
    expect(themes).to_be_visible()
    expect(theme_chart).to_be_visible()
    printed = tmp_path / "report-print.png"
    page.screenshot(path=str(printed), full_page=True)
    assert_png(printed)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_report_of_an_unpublished_consultation_is_not_found(
    page: Page, committed: Committed
) -> None:
    detail = committed.consultation(status="open")
    response = page.goto(f"/c/{detail.slug}/report")
    assert response is not None and response.status == 404
