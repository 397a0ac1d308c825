"""The analyst coding editor and the review queue in headless Chromium, without JavaScript:
model codings with their evidence, correcting an answer from the review queue (a human
coding that supersedes the model's), the history, and who may see what."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.codeframes import service as codeframes
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding.review import run_in_process, start_proposal_run
from app.coding.schemas import CodesIn
from app.coding.service import set_codes
from app.consultations import service as consultations_service
from app.enums import Role
from app.jobs.worker import queue_app
from app.users.models import User
from tests.browser.conftest import Committed, sync_url
from tests.test_coding_runs import AMBIGUOUS, NONE, PRIVACY, SECURITY, SERVICES

PASSWORD = "correct horse battery staple"
Query = Callable[..., list[tuple[Any, ...]]]
THEMES = [
    ThemeIn(code="P1-01", label="Privacy", description="Worries about privacy."),
    ThemeIn(code="P1-02", label="Security", description="Data breaches, hacking."),
    ThemeIn(code="P1-03", label="Better services", description="Services improve."),
]
RAW = "Email me at jo.bloggs@example.org: I worry about my privacy and personal records"


def add_answers(
    database_url: str, consultation_id: Any, question_id: Any
) -> list[tuple[Any, list[str]]]:
    groups = [(PRIVACY, ["P1-01"]), (SECURITY, ["P1-02"]), (SERVICES, ["P1-03"]), (NONE, [])]
    out = []
    with psycopg.connect(sync_url(database_url), autocommit=True) as conn:
        for i in range(60):
            if i % 15 == 14:
                body, gold = AMBIGUOUS[i % 2], ["P1-01", "P1-03"]
            else:
                texts, gold = groups[i % 4]
                body = f"{texts[(i // 4) % 4]} ({i})"
            redacted = body
            if i == 1:
                body, redacted = RAW, RAW.replace("jo.bloggs@example.org", "[EMAIL]")
            respondent, response, answer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            conn.execute(
                "INSERT INTO respondents (id, consultation_id, kind, publication_consent, "
                "channel) VALUES (%s, %s, 'individual', 'publish', 'web')",
                (respondent, consultation_id),
            )
            conn.execute(
                "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, "
                "status, channel) VALUES (%s, %s, %s, %s, 'received', 'web')",
                (response, consultation_id, respondent, uuid.uuid4().hex[:14]),
            )
            conn.execute(
                "INSERT INTO answers (id, response_id, question_id, text, redacted_text) "
                "VALUES (%s, %s, %s, %s, %s)",
                (answer, response, question_id, body, redacted),
            )
            out.append((answer, gold))
    return out


def sign_in(page: Page, email: str, path: str) -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def prepare(committed: Committed) -> tuple[Any, str, list[tuple[Any, list[str]]], Any]:
    """An open consultation, an analyst member, a published codeframe, 60 answers of which
    every third is coded by the analyst, and a finished code run."""
    detail = committed.consultation(status="open")
    email = committed.user(password=PASSWORD, role=Role.analyst)
    proposal = detail.proposals[0]
    answers = add_answers(committed.database_url, detail.id, proposal.questions[0].id)

    async def setup() -> Any:
        async with committed.server.app.state.sessionmaker() as session:
            await consultations_service.add_member(session, slug=detail.slug, email=email)
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            draft = await codeframes.create_codeframe(
                session, proposal_id=proposal.id, user=user, data=CodeframeCreate(themes=THEMES)
            )
            published = await codeframes.publish(session, codeframe_id=draft.id, user=user)
            for i, (answer_id, gold) in enumerate(answers):
                if i % 3 == 0:
                    await set_codes(
                        session,
                        answer_id=answer_id,
                        user=user,
                        data=CodesIn(codeframe_id=published.id, themes=gold),
                    )
            run = await start_proposal_run(
                session, queue=queue_app(), proposal_id=proposal.id, user=user, kind="code"
            )
            await session.commit()
            await run_in_process(session, run_id=run.id, commit=True)
            return published

    published = committed.server.call(setup, timeout=300)
    return proposal, email, answers, published


def test_review_queue_to_editor_correct_and_history(
    page: Page, committed: Committed, db: Query
) -> None:
    proposal, email, _, _ = prepare(committed)
    review = f"/analyse/proposals/{proposal.id}/review"
    sign_in(page, email, review)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review queue")
    total = page.locator("#queue-total strong")
    expect(total).to_be_visible()
    before = int(total.inner_text())
    assert before >= 1
    first = page.locator("#review-queue tbody tr").first
    answer_id = first.get_attribute("data-answer")
    assert answer_id
    first.get_by_role("link", name="Check and code").click()
    expect(page).to_have_url(re.compile(rf"/analyse/answers/{answer_id}\?back="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Code an answer to question 1")

    # Model decisions with confidence and evidence.
    rows = page.locator("#current-codes tbody tr")
    expect(rows).to_have_count(3)
    # Model decisions are stored sparsely (present, borderline or least certain absent):
    # at least one for a queued answer, at most one per theme.
    model_rows = page.locator('#current-codes tr[data-source="model"]')
    expect(model_rows.first).to_be_visible()
    model_count = model_rows.count()
    assert 1 <= model_count <= 3
    expect(page.locator("#current-codes")).to_contain_text("threshold")
    expect(page.locator("#current-codes")).to_contain_text("Terms:")

    # Correct it: only Security.
    for code in ("P1-01", "P1-02", "P1-03"):
        box = page.locator(f"#theme-{code}")
        if code == "P1-02":
            box.check()
        else:
            box.uncheck()
    page.get_by_role("button", name="Save coding").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Coding saved")
    expect(page.locator('#current-codes tr[data-source="human"]')).to_have_count(3)
    expect(page.locator('#current-codes tr[data-present="yes"]')).to_have_count(1)
    expect(page.locator('#current-codes tr[data-code="P1-02"]')).to_have_attribute(
        "data-present", "yes"
    )
    # History: the model's decisions superseded, the analyst's current.
    expect(page.locator('#history-table tr[data-current="no"]')).to_have_count(model_count)
    expect(page.locator('#history-table tr[data-current="yes"]')).to_have_count(3)
    stored = db(
        "SELECT source, present FROM codings WHERE answer_id = %s AND is_current ORDER BY present",
        (answer_id,),
    )
    assert stored == [("human", False), ("human", False), ("human", True)]

    # Back to the queue: the answer has left it.
    page.get_by_role("link", name="Back to the review queue").click()
    expect(page).to_have_url(re.compile(re.escape(review)))
    if before > 1:
        expect(page.locator("#queue-total strong")).to_have_text(str(before - 1))
    else:
        expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator(f'#review-queue tr[data-answer="{answer_id}"]')).to_have_count(0)

    # What to code next: uncoded answers, each linking to its editor.
    page.get_by_role("link", name="Suggest answers to code").click()
    suggested = page.locator("#suggested-answers li")
    expect(suggested.first).to_be_visible()
    assert 1 <= suggested.count() <= 10


def test_editor_shows_raw_and_redacted_text_to_analysts_only(
    page: Page, committed: Committed, db: Query
) -> None:
    proposal, email, answers, _ = prepare(committed)
    answer_id = answers[1][0]
    path = f"/analyse/answers/{answer_id}"
    sign_in(page, email, path)
    expect(page.locator("#redacted-text")).to_have_text(
        RAW.replace("jo.bloggs@example.org", "[EMAIL]")
    )
    page.get_by_text("Show the answer as submitted").click()
    expect(page.locator("#raw-text")).to_have_text(RAW)
    # A reviewer of the same consultation never gets the editor (raw text).
    reviewer = committed.user(password=PASSWORD, role=Role.reviewer, name="Rev Viewer")
    slug = db(
        "SELECT c.slug FROM consultations c JOIN proposals p ON p.consultation_id = c.id "
        "WHERE p.id = %s",
        (proposal.id,),
    )[0][0]

    async def join() -> None:
        async with committed.server.app.state.sessionmaker() as session:
            await consultations_service.add_member(session, slug=slug, email=reviewer)
            await session.commit()

    committed.server.call(join)
    other = page.context.browser.new_context(base_url=page.url.split("/analyse")[0])  # type: ignore[union-attr]
    try:
        second = other.new_page()
        second.goto(path)
        second.get_by_label("Email address").fill(reviewer)
        second.get_by_label("Password").fill(PASSWORD)
        second.get_by_role("button", name="Sign in").click()
        expect(second.locator("body")).not_to_contain_text("jo.bloggs@example.org")
        expect(second.locator("body")).not_to_contain_text("Save coding")
    finally:
        other.close()
