"""The codeframe editor page in headless Chromium, without JavaScript: discovery suggestions
become a draft, a theme is renamed, the draft is published, and a new version follows."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import Page, expect

from app.consultations import service as consultations_service
from app.enums import Role
from app.jobs import service as jobs
from benchmarks.discovery_quality import planted
from tests.browser.conftest import Committed, sync_url

PASSWORD = "correct horse battery staple"
Query = Callable[..., list[tuple[Any, ...]]]


def add_answers(database_url: str, consultation_id: Any, question_id: Any) -> None:
    texts, _ = planted(n_per_topic=15, seed=2, topics=["privacy", "cost", "health"])
    with psycopg.connect(sync_url(database_url), autocommit=True) as conn:
        for body in texts:
            add_answer(conn.execute, consultation_id, question_id, body)


def add_answer(db: Any, consultation_id: Any, question_id: Any, body: str) -> None:
    if True:
        respondent, response = uuid.uuid4(), uuid.uuid4()
        db(
            "INSERT INTO respondents (id, consultation_id, kind, publication_consent, channel) "
            "VALUES (%s, %s, 'individual', 'publish', 'web')",
            (respondent, consultation_id),
        )
        db(
            "INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, status, "
            "channel) VALUES (%s, %s, %s, %s, 'received', 'web')",
            (response, consultation_id, respondent, uuid.uuid4().hex[:14]),
        )
        db(
            "INSERT INTO answers (response_id, question_id, text, redacted_text) "
            "VALUES (%s, %s, %s, %s)",
            (response, question_id, body, body),
        )


def sign_in(page: Page, email: str, path: str) -> None:
    page.goto(path)
    # Signed out: sent to the sign-in page, then back.
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_suggestions_to_draft_rename_publish_new_version(
    page: Page, committed: Committed, db: Query
) -> None:
    detail = committed.consultation(status="open")
    email = committed.user(password=PASSWORD, role=Role.analyst)

    async def join() -> None:
        async with committed.server.app.state.sessionmaker() as session:
            await consultations_service.add_member(session, slug=detail.slug, email=email)
            await session.commit()

    committed.server.call(join)
    proposal = detail.proposals[0]
    add_answers(committed.database_url, detail.id, proposal.questions[0].id)
    path = f"/analyse/proposals/{proposal.id}/codeframe"
    try:
        sign_in(page, email, path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(proposal.title)
        expect(page.get_by_text("This proposal has no codeframe yet")).to_be_visible()

        # Discovery runs as a job; here the test does the worker's part.
        page.get_by_role("button", name="Find candidate themes").click()
        expect(page.get_by_text("Theme discovery started")).to_be_visible()
        [(run_id,)] = db(
            "SELECT id FROM analysis_runs WHERE proposal_id = %s AND kind = 'discover'",
            (proposal.id,),
        )
        committed.server.call(
            lambda: jobs.run_chunk(committed.server.app.state.sessionmaker, run_id=run_id, index=0)
        )
        page.reload()
        cards = page.locator("[data-suggestion]")
        expect(cards.first).to_be_visible()
        assert cards.count() >= 3
        first_label = page.locator("#label-1").input_value()
        assert first_label

        # Keep the first two, renaming the second; the rest are dropped.
        page.locator("#suggestion").check()
        page.locator("#suggestion-2").check()
        page.locator("#label-2").fill("Worries about cost")
        page.get_by_role("button", name="Add selected suggestions").click()
        expect(page.get_by_text("Suggestions added to the draft.")).to_be_visible()
        themes = page.locator("#draft-themes tbody tr")
        expect(themes).to_have_count(2)
        expect(themes.nth(0).locator(".theme-label")).to_have_text(first_label)
        expect(themes.nth(1).locator(".theme-label")).to_have_text("Worries about cost")
        code = themes.nth(0).get_attribute("data-code")
        assert code

        # Rename a theme and give it inclusion guidance.
        themes.nth(0).get_by_text("Edit").click()
        page.locator(f"#{code}-label").fill("Privacy of personal records")
        page.locator(f"#{code}-include_guidance").fill("Mentions of confidentiality or consent.")
        page.get_by_role("button", name=f"Save {code}").click()
        expect(page.get_by_text("Theme updated.")).to_be_visible()
        row = page.locator(f"#draft-themes tr[data-code='{code}']")
        expect(row.locator(".theme-label")).to_have_text("Privacy of personal records")
        expect(row).to_contain_text("Mentions of confidentiality or consent.")

        # An empty label is refused with an error summary; nothing changes.
        themes.nth(1).get_by_text("Edit").click()
        other = themes.nth(1).get_attribute("data-code")
        page.locator(f"#{other}-label").fill("")
        page.get_by_role("button", name=f"Save {other}").click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert page.title().startswith("Error:")
        page.goto(path)
        expect(page.locator(f"#draft-themes tr[data-code='{other}'] .theme-label")).to_have_text(
            "Worries about cost"
        )

        page.get_by_role("button", name="Publish version 1").click()
        expect(page.get_by_text("Version published.")).to_be_visible()
        expect(page.locator("tr[data-version='1']")).to_contain_text("published")
        expect(page.locator("#published-themes")).to_contain_text("Privacy of personal records")

        # A new version: a copy of version 1; rename, publish; version 1 is superseded.
        page.get_by_role("button", name="Start a new version").click()
        expect(page.get_by_text("New draft version started.")).to_be_visible()
        expect(page.locator("tr[data-version='2']")).to_contain_text("draft")
        row = page.locator(f"#draft-themes tr[data-code='{code}']")
        row.get_by_text("Edit").click()
        page.locator(f"#{code}-label").fill("Privacy")
        page.get_by_role("button", name=f"Save {code}").click()
        page.get_by_role("button", name="Publish version 2").click()
        expect(page.get_by_text("Version published.")).to_be_visible()
        expect(page.locator("tr[data-version='2']")).to_contain_text("published")
        expect(page.locator("tr[data-version='1']")).to_contain_text("superseded")
        versions = page.locator("tr[data-version='2']")
        versions.get_by_text("Change log").click()
        expect(versions).to_contain_text("Based on version 1")
        expect(versions).to_contain_text(f"Edited {code}")
        expect(page.locator("#published-themes")).to_contain_text("Privacy")

        statuses = db(
            "SELECT version, status FROM codeframes WHERE proposal_id = %s ORDER BY version",
            (proposal.id,),
        )
        assert statuses == [(1, "superseded"), (2, "published")]
    finally:
        with psycopg.connect(sync_url(committed.database_url), autocommit=True) as conn:
            conn.execute(
                "DELETE FROM procrastinate_jobs WHERE args->>'run_id' IN "
                "(SELECT id::text FROM analysis_runs WHERE consultation_id = %s)",
                (detail.id,),
            )


def test_forms_need_the_csrf_token_and_reviewers_cannot_edit(
    page: Page, committed: Committed, db: Query
) -> None:
    detail = committed.consultation(status="open")
    email = committed.user(password=PASSWORD, role=Role.reviewer)
    proposal = detail.proposals[0]
    path = f"/analyse/proposals/{proposal.id}/codeframe"
    sign_in_page = page
    sign_in_page.goto(path)
    sign_in_page.get_by_label("Email address").fill(email)
    sign_in_page.get_by_label("Password").fill(PASSWORD)
    sign_in_page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main")).to_contain_text("Only admins and analysts")
    response = page.request.post(f"{path}/new", form={"csrf_token": "forged"})
    assert response.status == 403
    assert db("SELECT count(*) FROM codeframes WHERE proposal_id = %s", (proposal.id,)) == [(0,)]
