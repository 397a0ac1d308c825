"""Challenge pages in headless Chromium: a reviewer raises a challenge from the "challenge this
coding" form, an analyst rejects it (a reason is required) and the reviewer replies; another is
accepted and the answer is recoded."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from app.codeframes import service as codeframes_service
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding import service as coding_service
from app.coding.schemas import CodesIn
from app.consultations import service as consultations_service
from app.enums import Role
from app.users.models import User
from tests.browser.conftest import Committed, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
RAW = "Share it only with my consent. Call me on 07700 900123 if unsure."
Query = Callable[..., list[tuple[Any, ...]]]


@dataclass
class Scene:
    slug: str
    answer_id: str
    reviewer: str
    analyst: str


def make_scene(committed: Committed, live_server: LiveServer, db: Query) -> Scene:
    """A consultation with a published codeframe, one answer coded P1-01 by an analyst, and a
    reviewer and an analyst who are members (committed, removed after the test)."""
    detail = committed.consultation()
    slug = detail.slug
    reviewer = committed.user(password=PASSWORD, role=Role.reviewer, name="Rita Reviewer")
    analyst = committed.user(password=PASSWORD, role=Role.analyst, name="Anna Analyst")
    proposal = detail.proposals[0]
    question = next(q for q in proposal.questions if q.number == "1")
    agree = next(q for q in proposal.questions if q.number == "2")
    posted = httpx.post(
        f"{live_server.url}/api/v1/consultations/{slug}/responses",
        json={
            "respondent": {"kind": "individual", "publication_consent": "publish"},
            "answers": [
                {"question_id": str(question.id), "text": RAW},
                {"question_id": str(agree.id), "options": ["Agree"]},
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    answer_id = str(
        db(
            "SELECT a.id FROM answers a JOIN responses r ON r.id = a.response_id"
            " WHERE r.receipt_code = %s AND a.question_id = %s",
            (posted.json()["receipt_code"], question.id),
        )[0][0]
    )

    async def prepare() -> None:
        async with live_server.app.state.sessionmaker() as session:
            for email in (reviewer, analyst):
                await consultations_service.add_member(session, slug=slug, email=email)
            user = await session.scalar(select(User).where(User.email == analyst))
            assert user is not None
            draft = await codeframes_service.create_codeframe(
                session,
                proposal_id=proposal.id,
                user=user,
                data=CodeframeCreate(
                    themes=[
                        ThemeIn(code="P1-01", label="Consent first"),
                        ThemeIn(code="P1-02", label="Contact by phone"),
                        ThemeIn(code="P1-03", label="Better services"),
                    ]
                ),
            )
            await codeframes_service.publish(session, codeframe_id=draft.id, user=user)
            await coding_service.set_codes(
                session,
                answer_id=uuid.UUID(answer_id),
                user=user,
                data=CodesIn(codeframe_id=draft.id, themes=["P1-03"]),
            )
            await session.commit()

    live_server.call(prepare)
    return Scene(slug, answer_id, reviewer, analyst)


def sign_in(context: BrowserContext, email: str, target: str) -> Page:
    page = context.new_page()
    page.goto(target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def raise_from_form(page: Page, scene: Scene) -> str:
    """On the "challenge this coding" form: propose P1-01 + P1-02 instead of P1-03."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Challenge this coding")
    expect(page.locator("#answer-text")).to_contain_text("[PHONE]")
    expect(page.locator("main")).not_to_contain_text("07700 900123")
    expect(page.get_by_label("P1-03 Better services")).to_be_checked()
    page.get_by_label("P1-03 Better services").uncheck()
    page.get_by_label("P1-01 Consent first").check()
    page.get_by_label("P1-02 Contact by phone").check()
    page.get_by_label("Why?").fill("They ask for consent and a phone call; nothing about services.")
    page.get_by_role("button", name="Raise challenge").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your challenge was raised")
    expect(page.locator("#challenge-status")).to_contain_text("Open")
    match = re.search(r"/audit/challenges/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def status_of(db: Query, challenge_id: str) -> str:
    return str(db("SELECT status FROM challenges WHERE id = %s", (challenge_id,))[0][0])


def test_raise_reject_without_then_with_reason_and_reply(
    new_context: Callable[..., BrowserContext],
    committed: Committed,
    live_server: LiveServer,
    db: Query,
    tmp_path: Path,
) -> None:
    scene = make_scene(committed, live_server, db)
    form_url = f"/audit/challenges/new?answer_id={scene.answer_id}&theme=P1-03"
    reviewer = sign_in(new_context(), scene.reviewer, form_url)
    challenge_id = raise_from_form(reviewer, scene)
    thread_url = f"/audit/challenges/{challenge_id}"
    expect(reviewer.get_by_role("button", name="Accept challenge")).to_have_count(0)

    analyst = sign_in(new_context(), scene.analyst, thread_url)
    expect(analyst.locator("#answer-text")).to_contain_text("[PHONE]")
    analyst.screenshot(path=str(tmp_path / "thread-analyst.png"), full_page=True)
    expect(analyst.get_by_role("button", name="Withdraw challenge")).to_have_count(0)
    analyst.get_by_role("button", name="Reject challenge").click()
    expect(analyst.locator(".govuk-error-summary")).to_contain_text(
        "Say why the challenge is rejected"
    )
    assert status_of(db, challenge_id) == "open"
    analyst.get_by_label("Reason for rejecting").fill("P1-03 covers their point about services.")
    analyst.get_by_role("button", name="Reject challenge").click()
    expect(analyst.locator("#challenge-status")).to_contain_text("Rejected")
    assert status_of(db, challenge_id) == "rejected"

    reviewer.goto(thread_url)
    expect(reviewer.locator("#outcome")).to_contain_text("P1-03 covers their point")
    expect(reviewer.get_by_role("button", name="Withdraw challenge")).to_have_count(0)
    reviewer.get_by_label("Add a message").fill("The answer never mentions services.")
    reviewer.get_by_role("button", name="Send message").click()
    messages = reviewer.locator("#messages li")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text("Anna Analyst (analyst) — rejected")
    expect(messages.nth(1)).to_contain_text("Rita Reviewer (reviewer)")
    expect(messages.nth(1)).to_contain_text("The answer never mentions services.")
    reviewer.screenshot(path=str(tmp_path / "thread-reviewer.png"), full_page=True)
    for name in ("thread-analyst", "thread-reviewer"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")

    # The list counts it, and the status filter finds it.
    reviewer.goto(f"/audit/challenges?consultation={scene.slug}")
    expect(reviewer.locator("#status-filter")).to_contain_text("Rejected (1)")
    reviewer.screenshot(path=str(tmp_path / "list.png"), full_page=True)
    reviewer.get_by_role("link", name="Rejected (1)").click()
    expect(reviewer.locator("#challenges tbody tr")).to_have_count(1)
    reviewer.get_by_role("link", name="Open (0)").click()
    expect(reviewer.locator("#challenges")).to_have_count(0)


def test_accept_applies_the_proposed_coding(
    new_context: Callable[..., BrowserContext],
    committed: Committed,
    live_server: LiveServer,
    db: Query,
) -> None:
    scene = make_scene(committed, live_server, db)
    form_url = f"/audit/challenges/new?answer_id={scene.answer_id}&theme=P1-03"
    reviewer = sign_in(new_context(), scene.reviewer, form_url)
    challenge_id = raise_from_form(reviewer, scene)

    analyst = sign_in(new_context(), scene.analyst, f"/audit/challenges/{challenge_id}")
    accept = analyst.locator("#accept-form")
    expect(accept.get_by_label("P1-01 Consent first")).to_be_checked()
    expect(accept.get_by_label("P1-02 Contact by phone")).to_be_checked()
    expect(accept.get_by_label("P1-03 Better services")).not_to_be_checked()
    accept.get_by_label("Resolution (optional)").fill("Recoded as proposed.")
    analyst.get_by_role("button", name="Accept challenge").click()
    expect(analyst.locator("#challenge-status")).to_contain_text("Accepted")
    expect(analyst.locator("#outcome")).to_contain_text("recoded in codeframe version 1")

    present = db(
        "SELECT t.code FROM codings c JOIN themes t ON t.id = c.theme_id"
        " WHERE c.answer_id = %s AND c.is_current AND c.present ORDER BY t.code",
        (scene.answer_id,),
    )
    assert [row[0] for row in present] == ["P1-01", "P1-02"]
    applied = db("SELECT applied FROM challenges WHERE id = %s", (challenge_id,))[0][0]
    linked = db(
        "SELECT count(*) FROM codings WHERE id = ANY(%s::uuid[]) AND source = 'human'"
        " AND is_current AND supersedes_id IS NOT NULL",
        (applied["coding_ids"],),
    )
    assert linked[0][0] == 3 == len(applied["coding_ids"])

    reviewer.goto(f"/audit/challenges/{challenge_id}")
    expect(reviewer.locator("#outcome")).to_contain_text("Recoded as proposed.")
