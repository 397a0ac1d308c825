"""Reviewer pages in headless Chromium: a reviewer signs in, finds the sample under /audit,
codes an item blind (the page shows no current codes), submits, sees the comparison theme by
theme, and reads the agreement dashboard (kappa with its interval, chart with a table)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from app.codeframes import service as codeframes_service
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding.service import ModelCoding, write_model_codings
from app.consultations import service as consultations_service
from app.enums import Channel, PublicationConsent, RespondentKind, Role
from app.responses.models import Answer, Respondent, Response
from app.samples import service as samples_service
from app.samples.models import SampleItem
from app.samples.schemas import ReviewIn, SampleCreate
from app.users.models import User
from tests.browser.conftest import Committed, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
Query = Callable[..., list[tuple[Any, ...]]]
N_ANSWERS = 24
SIZE = 10


def answer_text(i: int) -> tuple[str, str]:
    raw = f"Answer {i}: only share my data with consent. Write to sam{i}@example.com."
    return raw, raw.replace(f"sam{i}@example.com", "[EMAIL]")


@dataclass
class Scene:
    proposal_id: str
    sample_id: str
    first_item: str
    reviewer: str
    raw_first: str
    redacted_first: str


def make_scene(committed: Committed, live_server: LiveServer) -> Scene:
    """An open consultation with 24 model-coded answers, a sample of 10 drawn by a reviewer who
    has already reviewed items 2-10 (so the dashboard has figures); item 1 is left for the
    browser."""
    detail = committed.consultation()
    slug = detail.slug
    reviewer = committed.user(password=PASSWORD, role=Role.reviewer, name="Rita Reviewer")
    admin = committed.user(password=PASSWORD, role=Role.admin, name="Adam Admin")
    proposal = detail.proposals[0]
    question = next(q for q in proposal.questions if q.number == "1")

    async def prepare() -> Scene:
        async with live_server.app.state.sessionmaker() as session:
            await consultations_service.add_member(session, slug=slug, email=reviewer)
            boss = await session.scalar(select(User).where(User.email == admin))
            rita = await session.scalar(select(User).where(User.email == reviewer))
            assert boss is not None and rita is not None
            draft = await codeframes_service.create_codeframe(
                session,
                proposal_id=proposal.id,
                user=boss,
                data=CodeframeCreate(
                    themes=[
                        ThemeIn(code="P1-01", label="Consent first"),
                        ThemeIn(code="P1-02", label="Data security"),
                        ThemeIn(code="P1-03", label="Better services"),
                    ]
                ),
            )
            published = await codeframes_service.publish(session, codeframe_id=draft.id, user=boss)
            theme = {t.code: t.id for t in published.themes}
            answers = []
            for i in range(N_ANSWERS):
                respondent = Respondent(
                    consultation_id=detail.id,
                    kind=RespondentKind.individual,
                    name=f"Sam Person{i}",
                    email=f"sam{i}@example.com",
                    publication_consent=PublicationConsent.publish,
                    channel=Channel.import_,
                )
                session.add(respondent)
                await session.flush()
                response = Response(
                    consultation_id=detail.id,
                    respondent_id=respondent.id,
                    receipt_code=uuid.uuid4().hex[:14].upper(),
                    channel=Channel.import_,
                )
                session.add(response)
                await session.flush()
                raw, redacted = answer_text(i)
                answer = Answer(
                    response_id=response.id,
                    question_id=question.id,
                    text=raw,
                    redacted_text=redacted,
                )
                session.add(answer)
                await session.flush()
                answers.append(answer.id)
            await write_model_codings(
                session,
                codeframe_id=published.id,
                run_id=uuid.uuid4(),
                codings=[
                    ModelCoding(a, theme[code], present, 0.9 if present else 0.1)
                    for i, a in enumerate(answers)
                    for code, present in (
                        ("P1-01", True),
                        ("P1-02", i % 2 == 0),
                        ("P1-03", i % 3 == 0),
                    )
                ],
            )
            sample = await samples_service.draw_sample(
                session,
                proposal_id=proposal.id,
                user=rita,
                data=SampleCreate(size=SIZE, seed=2026),
            )
            items = list(
                await session.scalars(
                    select(SampleItem)
                    .where(SampleItem.sample_id == sample.id)
                    .order_by(SampleItem.position)
                )
            )
            for item in items[1:]:
                themes = set(item.codes["present"])
                if item.position % 4 == 0:
                    themes ^= {"P1-02"}
                await samples_service.submit_review(
                    session,
                    sample_id=sample.id,
                    item_id=item.id,
                    user=rita,
                    data=ReviewIn(themes=sorted(themes)),
                )
            first = items[0]
            index = answers.index(first.answer_id)
            await session.commit()
            raw, redacted = answer_text(index)
            return Scene(str(proposal.id), str(sample.id), str(first.id), reviewer, raw, redacted)

    return live_server.call(prepare)


def sign_in(context: BrowserContext, email: str, target: str) -> Page:
    page = context.new_page()
    page.goto(target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_blind_review_comparison_and_dashboard(
    committed: Committed, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    scene = make_scene(committed, live_server)
    page = sign_in(new_context(), scene.reviewer, "/audit")
    expect(page).to_have_url(re.compile(r"/audit$"))
    expect(page.get_by_role("heading", name="My samples")).to_be_visible()
    page.get_by_role("link", name=re.compile("Review next item")).click()

    # The blind form: redacted text, the themes as checkboxes, and no current codes.
    expect(page).to_have_url(
        re.compile(rf"/audit/samples/{scene.sample_id}/items/{scene.first_item}$")
    )
    expect(page.get_by_role("heading", name="Code item 1 of 10")).to_be_visible()
    expect(page.get_by_test_id("answer")).to_have_text(scene.redacted_first)
    html = page.content()
    assert scene.raw_first not in html and "@example.com" not in html
    assert "Sam Person" not in html
    for hidden in ("Current code", "confidence", "Agree", "Reviewer 1", "model"):
        assert hidden not in html, hidden
    expect(page.get_by_test_id("comparison")).to_have_count(0)

    page.get_by_label("P1-01 Consent first").check()
    page.get_by_label("P1-03 Better services").check()
    page.get_by_label("Support").check()
    page.get_by_role("button", name="Submit review").click()

    # The comparison, theme by theme.
    expect(page.get_by_role("heading", name="Compare item 1 of 10")).to_be_visible()
    table = page.get_by_test_id("comparison")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader", name="Current code")).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("P1-01 Consent first")
    expect(rows.nth(0)).to_contain_text("Agree")
    expect(rows.nth(0)).to_contain_text("confidence 0.90")
    # The answer carries P1-01, P1-02 when even, P1-03 when divisible by 3.
    verdicts = [rows.nth(i).locator("td").nth(3).inner_text().strip() for i in range(3)]
    assert verdicts[0] == "Agree" and set(verdicts) <= {"Agree", "Disagree"}
    assert page.get_by_role("link", name=re.compile("Challenge")).count() == verdicts.count(
        "Disagree"
    )

    # A submitted review is final: the form is gone, and re-posting a different one fails.
    page.goto(f"/audit/samples/{scene.sample_id}/items/{scene.first_item}")
    expect(page.get_by_role("button", name="Submit review")).to_have_count(0)

    # The dashboard: Cohen's kappa (one reviewer and the current codes) with its interval.
    page.get_by_role("link", name="Agreement dashboard").click()
    expect(page.get_by_role("heading", name=re.compile("^Agreement:"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Cohen's kappa"))).to_be_visible()
    agreement = page.get_by_test_id("agreement-table")
    overall = agreement.locator("tbody tr").last
    expect(overall).to_contain_text("Overall")
    interval = re.compile(r"-?\d\.\d\d \(-?\d\.\d\d to -?\d\.\d\d\)")
    assert interval.search(overall.locator("td").first.inner_text())
    chart = page.get_by_role("img", name=re.compile("Cohen's kappa"))
    expect(chart).to_be_visible()
    expect(page.locator("#kappa-summary")).to_contain_text("95% confidence interval")
    expect(page.get_by_role("heading", name="Coding error rate")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Weighted to the population")


def test_a_reviewer_draws_a_sample_from_the_page(
    committed: Committed, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    scene = make_scene(committed, live_server)
    path = f"/audit/proposals/{scene.proposal_id}/samples/new"
    page = sign_in(new_context(), scene.reviewer, path)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("main")).to_contain_text(f"from the {N_ANSWERS} answers coded")
    # Too large: the form comes back with an error summary and nothing is drawn.
    page.get_by_role("textbox", name="Number of answers").fill(str(N_ANSWERS + 1))
    page.get_by_role("button", name="Draw the sample").click()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"cannot be larger than the {N_ANSWERS} coded answers"
    )
    page.get_by_label("Stratified random sample").check()
    page.get_by_label("Strata (stratified samples only)").select_option("theme")
    page.get_by_role("textbox", name="Number of answers").fill("6")
    page.get_by_label("Seed (optional)").fill("77")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("heading", name=re.compile("^Audit sample:"))).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The sample was drawn")
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("stratified by theme")
    expect(summary).to_contain_text("77")
    # Item strata (a theme stratum would reveal the current codes) stay hidden until reviewed.
    expect(page.locator("main")).to_contain_text("hidden until you review it")
