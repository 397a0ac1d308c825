"""The respondent's form, its receipt, its errors, CSRF and sign-in, driven in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Committed

pytestmark = pytest.mark.browser

RECEIPT_CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Q1 = "Question 1: What do you think of this proposal? (optional)"
ANSWER = "Good idea, but ask me first: write to jo.bloggs@example.com before sharing anything."

Query = Callable[..., list[tuple[Any, ...]]]


def question_ids(detail: Any) -> dict[str, str]:
    return {q.number: str(q.id) for p in detail.proposals for q in p.questions}


def response_count(db: Query, slug: str) -> int:
    rows = db(
        "SELECT count(*) FROM responses r JOIN consultations c ON c.id = r.consultation_id"
        " WHERE c.slug = %s",
        (slug,),
    )
    return int(rows[0][0])


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 10_000 and data.startswith(PNG_MAGIC), path


def test_fill_submit_view_and_withdraw_without_javascript(
    page: Page, committed: Committed, db: Query, tmp_path: Path
) -> None:
    detail = committed.consultation()
    slug = detail.slug
    page.goto(f"/c/{slug}")
    expect(page).to_have_title(re.compile(r"^Better use of data"))

    page.get_by_label("As an individual").check()
    page.get_by_label("Yes, but publish it anonymously").check()
    page.get_by_label(Q1).fill(ANSWER)
    page.get_by_label("Agree", exact=True).check()
    page.get_by_label("Consent", exact=True).check()
    page.get_by_label("Security", exact=True).check()
    form_png = tmp_path / "form.png"
    page.screenshot(path=str(form_png), full_page=True)
    assert_png(form_png)

    submit(page, 200)
    expect(page.locator(".govuk-panel__title")).to_have_text("Response received")
    code = page.locator("#receipt-code").inner_text().strip()
    assert RECEIPT_CODE.match(code), code
    assert re.search(rf"/c/{slug}/receipt/{code}\?secret=[\w-]+", page.url), page.url
    receipt_png = tmp_path / "receipt.png"
    page.screenshot(path=str(receipt_png), full_page=True)
    assert_png(receipt_png)

    # The link without the one-off confirmation is the respondent's own view.
    page.reload()
    expect(page.locator("#receipt-code")).to_have_text(code)
    page.goto(page.url.replace("&new=1", ""))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Your response {code}")
    answers = page.locator(".govuk-summary-list").last
    expect(answers).to_contain_text(ANSWER)
    expect(answers).to_contain_text("Agree")
    expect(answers).to_contain_text("Consent, Security")

    page.get_by_role("button", name="Withdraw my response").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You withdrew this response")
    expect(page.get_by_role("button", name="Withdraw my response")).to_have_count(0)

    rows = db(
        """
        SELECT r.channel, r.status, r.receipt_code, a.text, a.redacted_text
        FROM responses r
        JOIN consultations c ON c.id = r.consultation_id
        JOIN answers a ON a.response_id = r.id
        JOIN questions q ON q.id = a.question_id
        WHERE c.slug = %s AND q.number = '1'
        """,
        (slug,),
    )
    assert response_count(db, slug) == 1
    [(channel, status, stored_code, text, redacted)] = rows
    assert (channel, status, stored_code, text) == ("web", "withdrawn", code, ANSWER)
    assert redacted and "jo.bloggs@example.com" not in redacted and "Good idea" in redacted
    [(options,)] = db(
        "SELECT a.options FROM answers a JOIN responses r ON r.id = a.response_id"
        " JOIN consultations c ON c.id = r.consultation_id JOIN questions q ON q.id = a.question_id"
        " WHERE c.slug = %s AND q.number = '4'",
        (slug,),
    )
    assert options == ["Consent", "Security"]


def submit(page: Page, expected_status: int) -> None:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Submit response").click()
    assert navigation.value is not None and navigation.value.status == expected_status


def check_error_summary(page: Page, *, javascript: bool, answer: str) -> list[str]:
    """The GOV.UK error pattern: title, summary, links to the fields in error, values kept.

    Returns the summary's hrefs.
    """
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    hrefs = [str(link.get_attribute("href")) for link in summary.get_by_role("link").all()]
    assert hrefs and all(h.startswith("#") for h in hrefs), hrefs
    for href in hrefs:
        expect(page.locator(href)).to_have_count(1)
        expect(
            page.locator(f".govuk-form-group--error:has({href}) .govuk-error-message")
        ).to_have_count(1)
    expect(page.get_by_label(Q1)).to_have_value(answer)
    for href in hrefs:
        summary.locator(f'a[href="{href}"]').click()
        if javascript:  # govuk-frontend's error summary moves focus to the field itself
            expect(page.locator(href)).to_be_focused()
        else:
            assert page.url.endswith(href), page.url
    return hrefs


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_errors_are_summarised_linked_and_corrected(
    javascript: bool, new_context: Callable[..., BrowserContext], committed: Committed, db: Query
) -> None:
    page = new_context(javascript=javascript).new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    detail = committed.consultation()
    stance_field = f"q-{question_ids(detail)['2']}"
    page.goto(f"/c/{detail.slug}")

    # An organisation without a name, and the required stance question left empty.
    page.get_by_label("On behalf of an organisation").check()
    page.get_by_label("No, do not publish my response").check()
    page.get_by_label(Q1).fill(ANSWER)
    submit(page, 422)
    check_error_summary(page, javascript=javascript, answer=ANSWER)
    expect(page.get_by_label("On behalf of an organisation")).to_be_checked()
    expect(page.get_by_label("No, do not publish my response")).to_be_checked()
    assert response_count(db, detail.slug) == 0

    # Name the organisation: the stance question is still missing.
    page.get_by_label("Organisation name (if responding for an organisation)").fill(
        "Friends of Data"
    )
    submit(page, 422)
    hrefs = check_error_summary(page, javascript=javascript, answer=ANSWER)
    assert hrefs == [f"#{stance_field}"]
    expect(page.locator(f"#{stance_field}-error")).to_contain_text("Question 2 must be answered")
    assert response_count(db, detail.slug) == 0

    page.get_by_label("Disagree", exact=True).check()
    submit(page, 200)
    expect(page.locator(".govuk-panel__title")).to_have_text("Response received")
    assert response_count(db, detail.slug) == 1
    assert page_errors == []


def test_all_errors_are_reported_at_once_against_their_own_fields(
    page: Page, committed: Committed, db: Query
) -> None:
    detail = committed.consultation()
    stance_field = f"q-{question_ids(detail)['2']}"
    page.goto(f"/c/{detail.slug}")
    page.get_by_label("On behalf of an organisation").check()
    page.get_by_label("No, do not publish my response").check()
    page.get_by_label(Q1).fill(ANSWER)
    submit(page, 422)
    links = page.locator(".govuk-error-summary").get_by_role("link")
    hrefs = sorted(str(link.get_attribute("href")) for link in links.all())
    assert hrefs == sorted(["#organisation_name", f"#{stance_field}"])


def test_closed_consultation_accepts_no_responses(page: Page, committed: Committed) -> None:
    detail = committed.consultation(status="closed")
    page.goto(f"/c/{detail.slug}")
    expect(page.locator("main")).to_contain_text(
        "This consultation is closed: it does not accept responses now."
    )
    expect(page.get_by_role("heading", name="1. Tailored public services")).to_be_visible()
    expect(page.get_by_role("button", name="Submit response")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)


def test_form_posted_without_a_valid_csrf_token_is_refused(
    page: Page, committed: Committed, db: Query
) -> None:
    detail = committed.consultation()
    ids = question_ids(detail)
    page.goto(f"/c/{detail.slug}")  # a session cookie with a CSRF token
    token = page.locator('input[name="csrf_token"]').first.input_value()
    assert token
    fields = {
        "kind": "individual",
        "publication_consent": "publish",
        f"q-{ids['1']}": "Fine by me.",
        f"q-{ids['2']}": "Agree",
    }
    for bad in ({}, {"csrf_token": "not-the-token"}):
        refused = page.request.post(f"/c/{detail.slug}", form={**fields, **bad}, max_redirects=0)
        assert refused.status == 403, refused.text()
        assert refused.json()["code"] == "csrf_failed"
    assert response_count(db, detail.slug) == 0

    # The same body with the session's token is accepted: only the token was wrong.
    accepted = page.request.post(
        f"/c/{detail.slug}", form={**fields, "csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303, accepted.text()
    assert response_count(db, detail.slug) == 1


def test_sign_in_and_wrong_password(page: Page, committed: Committed) -> None:
    password = "correct horse battery staple"
    email = committed.user(password=password, name="Ada Analyst")

    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    assert navigation.value is not None and navigation.value.status == 401
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#email")
    expect(page.get_by_label("Email address")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")

    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator(".consult-user")).to_contain_text("Ada Analyst")
    expect(page.get_by_role("link", name="Analyse")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
