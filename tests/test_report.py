"""The published report: access, figures split by respondent kind with campaigns apart,
stance, consenting quotes only, charts beside tables, counts-are-not-votes, the method
section, and the static HTML of `consult report`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.jobs.models import AnalysisRun, RunStatus
from app.reports import service as report_service
from app.reports.charts import Series, bar_chart
from app.reports.pages import static_html
from tests.conftest import Users, bearer
from tests.test_exports import FORMULA, SLUG, World, make_world

REPORT = f"/c/{SLUG}/report"


class Tables(HTMLParser):
    """Tables (caption and cell texts per row) and inline SVG charts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.svgs: list[dict[str, str]] = []
        self._cell: list[str] | None = None
        self._caption = False
        self._svg_part: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "rows": [], "id": a.get("id")})
        elif tag == "caption":
            self._caption = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "svg":
            self.svgs.append({"role": a.get("role") or "", "title": "", "desc": ""})
        elif tag in ("title", "desc") and self.svgs:
            self._svg_part = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("title", "desc"):
            self._svg_part = None

    def handle_data(self, data: str) -> None:
        if self._caption:
            self.tables[-1]["caption"] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._svg_part and self.svgs:
            self.svgs[-1][self._svg_part] += data

    def table(self, starts: str) -> dict[str, Any]:
        return next(t for t in self.tables if " ".join(t["caption"].split()).startswith(starts))


def parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> World:
    return await make_world(client, users, session)


async def test_report_is_hidden_until_published_except_for_analysts(
    world: World, users: Users
) -> None:
    assert (await world.client.get(REPORT)).status_code == 404
    reviewer = await users.token(Role.reviewer, member_of=[SLUG])
    outsider = await users.token(Role.analyst)
    for token in (reviewer, outsider):
        assert (await world.client.get(REPORT, headers=bearer(token))).status_code == 404
    preview = await world.client.get(REPORT, headers=bearer(world.analyst))
    assert preview.status_code == 200
    assert "Preview: this report is not published" in preview.text
    await world.publish_consultation()
    public = await world.client.get(REPORT)
    assert public.status_code == 200
    assert "Preview" not in public.text
    assert (await world.client.get("/c/nope/report")).status_code == 404


async def test_theme_counts_split_by_kind_with_campaigns_apart(world: World) -> None:
    await world.publish_consultation()
    page = await world.client.get(REPORT)
    doc = parse(page.text)
    themes = doc.table("Proposal 1: answers mentioning each theme")
    header, *rows = themes["rows"]
    assert header == [
        "Theme",
        "Individuals (n = 2)",
        "Organisations (n = 2)",
        "All outside campaigns (n = 4)",
        f"Campaign: {world.campaign_label} (n = 2)",
    ]
    # PEOPLE: outside campaigns Alice (individual, P1-01), Acme (organisation, P1-01 P1-02),
    # Quiet (organisation, P1-03), Bob (individual, P1-03); the campaign: 2 x P1-03; the
    # excluded response counts nowhere.
    assert rows == [
        ["P1-01 Better services", "1 (50%)", "1 (50%)", "2 (50%)", "0 (0%)"],
        ["P1-02 Safeguards needed", "0 (0%)", "1 (50%)", "1 (25%)", "0 (0%)"],
        ["P1-03 Privacy concerns", "1 (50%)", "1 (50%)", "2 (50%)", "2 (100%)"],
    ]
    # Proposal 2 has no codeframe: said plainly.
    assert "No codeframe has been published for this proposal yet" in page.text


async def test_stance_breakdown_and_not_votes_statement(world: World) -> None:
    await world.publish_consultation()
    page = await world.client.get(REPORT)
    assert "Counts are not votes" in page.text
    doc = parse(page.text)
    stance = doc.table("Proposal 1: stance of responses")
    header, *rows = stance["rows"]
    assert header == ["Stance", "Individuals", "Organisations", "Campaign responses"]
    by_label = {r[0]: r[1:] for r in rows}
    assert by_label["Support"] == ["1 (50%)", "1 (50%)", "0 (0%)"]
    assert by_label["Oppose"] == ["1 (50%)", "1 (50%)", "2 (100%)"]


async def test_every_table_of_figures_has_a_chart_with_a_text_alternative(world: World) -> None:
    await world.publish_consultation()
    page = (await world.client.get(REPORT)).text
    doc = parse(page)
    assert all(s["role"] == "img" and s["title"] and s["desc"] for s in doc.svgs)
    titles = [s["title"] for s in doc.svgs]
    assert "Proposal 1: share of answers mentioning each theme" in titles
    assert "Proposal 1: stance of responses" in titles
    assert "Proposal 2: stance of responses" in titles
    assert "Responses by channel and type of respondent" in titles
    assert "Responses excluded, by reason" in titles
    assert "Responses in each campaign" in titles
    theme_chart = next(s for s in doc.svgs if s["title"].startswith("Proposal 1: share"))
    # The text alternative states the figures.
    assert "P1-03 Privacy concerns" in theme_chart["desc"]
    assert f"Campaign: {world.campaign_label}: 2 (100%)" in theme_chart["desc"]
    # Each chart sits in the same pair as its table.
    pairs = page.split('<div class="consult-report__pair">')[1:]
    assert len(pairs) == len(doc.svgs)
    assert all("<table" in p.split("</figure>")[0] and "<svg" in p for p in pairs)


async def test_quotes_only_from_consenting_respondents(world: World) -> None:
    await world.publish_consultation()
    page = (await world.client.get(REPORT)).text
    quotes = re.findall(
        r'<figure class="consult-report__quote">\s*<blockquote class="govuk-body">“(.*?)”'
        r"</blockquote>\s*<figcaption class=\"govuk-body-s\">— (.*?)</figcaption>",
        page,
        re.DOTALL,
    )
    assert quotes
    texts = {q[0] for q in quotes}
    attributions = {q[0]: q[1] for q in quotes}
    assert "frightens me" not in page  # do_not_publish
    assert not any("Stop the data grab" in t for t in texts)  # campaign members
    assert "Spam spam spam" not in page  # excluded
    acme = next(t for t in texts if t.startswith("We support sharing"))
    assert attributions[acme] == "Acme Data Trust"
    quiet = next(t for t in texts if "Privacy comes first" in t)
    assert attributions[quiet] == "An organisation"  # asked to be anonymous
    assert "Quiet Foundation" not in page
    for secret in ("alice@example.org", "Alice Jones", "bob@example.org", "office@acme.example"):
        assert secret not in page
    assert "HYPERLINK(&#34;http://evil.example&#34;" in page or FORMULA not in page


async def test_method_section_from_the_data(world: World, session: AsyncSession) -> None:
    session.add(
        AnalysisRun(
            consultation_id=uuid.UUID(world.detail["id"]),
            proposal_id=world.proposal_id,
            kind="code",
            status=RunStatus.succeeded,
            seed=7,
            code_version="test-1",
            data_count=6,
            parameters={"codeframe_id": world.codeframe["id"]},
            metrics={
                "cv": {
                    "folds": 5,
                    "sample_f1": 0.8123,
                    "micro_f1": 0.79,
                    "macro_f1": 0.7,
                    "themes": {
                        "P1-01": {"precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 12}
                    },
                }
            },
        )
    )
    await session.commit()
    await world.publish_consultation()
    page = (await world.client.get(REPORT)).text
    doc = parse(page)
    channels = doc.table("Responses analysed, by channel and type of respondent")
    assert ["api", "4", "2", "6"] in channels["rows"]
    assert "6 responses analysed" in " ".join(page.split())
    assert "1 excluded by the analysts" in " ".join(page.split())
    exclusions = doc.table("Responses excluded from the analysis")
    assert ["Spam: not a response to the consultation", "1"] in exclusions["rows"]
    campaigns = doc.table("Campaigns found")
    assert campaigns["rows"][1][:2] == [world.campaign_label, "2"]
    codeframes = doc.table("Codeframe versions and their change logs")
    row = codeframes["rows"][1]
    assert row[0].endswith("Tailored public services") and row[1] == "1"
    assert row[3] == "3" and "Created with 3 themes" in row[4] and "Published" in row[4]
    runs = doc.table("Analysis runs")
    assert "Sample-averaged F1: 0.812" in runs["rows"][1][5]
    assert "(codeframe v1)" in runs["rows"][1][0]
    per_theme = doc.table("Cross-validated per-theme quality")
    assert per_theme["rows"][1] == ["P1-01", "0.90", "0.80", "0.85", "12"]
    metrics_chart = next(s for s in doc.svgs if s["title"].startswith("Cross-validated"))
    assert "P1-01: Precision: 0.90, Recall: 0.80, F1: 0.85" in metrics_chart["desc"]
    assert "No audit sample has been drawn yet" in page
    assert "No challenge has been raised" in page


def test_chart_patterns_and_labels_do_not_rely_on_colour() -> None:
    svg = str(
        bar_chart(
            title="T <x>",
            categories=["A & B", "C"],
            series=[
                Series("One", [0.5, 1.0], ["1 (50%)", "2 (100%)"]),
                Series("Two", [0, 0], ["0", "0"]),
            ],
            scale_max=1.0,
        )
    )
    assert "T &lt;x&gt;" in svg and "A &amp; B" in svg  # escaped
    assert "url(#" in svg  # the second series is a pattern, not a colour
    assert ">1 (50%)<" in svg and ">2 (100%)<" in svg  # every bar labelled
    assert 'role="img"' in svg and "aria-labelledby" in svg


async def test_static_html_is_self_contained(world: World, session: AsyncSession) -> None:
    report = await report_service.build_report(session, slug=SLUG, user=None, operator=True)
    assert report.preview  # not published yet: the CLI writes a preview
    html = static_html(report)
    assert "<script" not in html and '<link rel="stylesheet"' not in html
    assert "@media print" in html and "govuk-table" in html
    assert "Counts are not votes" in html


def test_cli_report_unknown_consultation(database_url: str, tmp_path: Any) -> None:
    env = dict(os.environ, DATABASE_URL=database_url)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "report", "nope", "--out", str(tmp_path / "r.html")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "nope" in done.stderr
    assert not (tmp_path / "r.html").exists()


async def test_method_shows_audit_agreement_and_challenge_outcomes(
    world: World, users: Users, session: AsyncSession
) -> None:
    from sqlalchemy import select

    from app.challenges import service as challenges_service
    from app.challenges.schemas import AcceptIn, CodingChallengeIn, FigureChallengeIn, RejectIn
    from app.samples import service as samples_service
    from app.samples.models import SampleItem
    from app.samples.schemas import ReviewIn, SampleCreate
    from app.users import service as users_service

    reviewers = []
    for _ in range(2):
        token = await users.token(Role.reviewer, member_of=[SLUG])
        reviewer = await users_service.user_for_token(session, token=token)
        assert reviewer is not None
        reviewers.append(reviewer)
    sample = await samples_service.draw_sample(
        session,
        proposal_id=world.proposal_id,
        user=world.analyst_user,
        data=SampleCreate(size=4, seed=11),
    )
    items = list(
        await session.scalars(
            select(SampleItem)
            .where(SampleItem.sample_id == sample.id)
            .order_by(SampleItem.position)
        )
    )
    assert len(items) == 4
    for i, reviewer in enumerate(reviewers):
        for j, item in enumerate(items):
            themes = list(item.codes.get("present", []))
            if i == 1 and j == 0:
                themes = [*themes, "P1-02"] if "P1-02" not in themes else []
            await samples_service.submit_review(
                session,
                sample_id=sample.id,
                item_id=item.id,
                user=reviewer,
                data=ReviewIn(themes=themes),
            )
    coding = await challenges_service.raise_challenge(
        session,
        slug=SLUG,
        user=reviewers[0],
        data=CodingChallengeIn(
            kind="coding",
            answer_id=world.answer_ids[3],
            theme="P1-01",
            proposed_themes=["P1-01", "P1-03"],
            reason="The answer also argues that services would improve.",
        ),
    )
    figure = await challenges_service.raise_challenge(
        session,
        slug=SLUG,
        user=reviewers[1],
        data=FigureChallengeIn(
            kind="figure",
            proposal_id=world.proposal_id,
            figure="Share of organisations mentioning privacy",
            reason="Looks too high.",
        ),
    )
    await challenges_service.accept(
        session,
        challenge_id=coding.id,
        user=world.analyst_user,
        data=AcceptIn(resolution="Agreed: recoded with both themes."),
    )
    await challenges_service.reject(
        session,
        challenge_id=figure.id,
        user=world.analyst_user,
        data=RejectIn(reason="The figure matches the codes; see the open data."),
    )
    await session.commit()
    await world.publish_consultation()
    page = (await world.client.get(REPORT)).text
    flat = " ".join(page.split())
    assert "a sample of 4 answers, simple random, codeframe v1" in flat
    assert 'Random seed</th><td class="govuk-table__cell">11' in flat
    # Agreement statistics with their intervals.
    assert re.search(
        r"Reviewers vs current codes: Krippendorff&#39;s alpha</th>"
        r"<td class=\"govuk-table__cell\">-?\d\.\d{3} \(95% CI -?\d\.\d{3} to -?\d\.\d{3}\)",
        flat,
    )
    assert "Among reviewers: percent agreement" in flat
    interval = next(
        s
        for s in parse(page).svgs
        if s["title"] == "Agreement and error estimates with their intervals"
    )
    assert re.search(
        r"Among reviewers: Krippendorff's alpha: -?\d\.\d{3} \(95% CI", interval["desc"]
    )
    assert "Estimated coding error rate" in flat
    assert "Accepted: 1" in next(
        s["desc"] for s in parse(page).svgs if s["title"] == "Challenges by status"
    )
    counts = parse(page).table("Challenges raised by reviewers, by status")
    assert counts["rows"] == [
        ["Open", "Accepted", "Rejected", "Withdrawn", "Total"],
        ["0", "1", "1", "0", "2"],
    ]
    outcomes = parse(page).table("Each challenge and its outcome")["rows"][1:]
    by_reason = {r[1]: r for r in outcomes}
    accepted = by_reason["The answer also argues that services would improve."]
    assert accepted[2].startswith("accepted") and accepted[3] == "Agreed: recoded with both themes."
    rejected = by_reason["Looks too high."]
    assert rejected[2].startswith("rejected")
    assert rejected[0].startswith("Reported figure: Share of organisations mentioning privacy")
    # Reviewers' names are not published.
    assert reviewers[0].name not in flat or reviewers[0].name == "reviewer"
    for r in reviewers:
        assert r.email not in flat


async def test_published_consultation_page_links_to_the_report(world: World) -> None:
    before = await world.client.get(f"/c/{SLUG}")
    assert f"/c/{SLUG}/report" not in before.text
    await world.publish_consultation()
    page = await world.client.get(f"/c/{SLUG}")
    assert f'href="/c/{SLUG}/report"' in page.text
    assert f'href="/api/v1/consultations/{SLUG}/exports/open-data"' in page.text


async def test_user_text_is_escaped_in_tables_charts_and_quotes(
    world: World, session: AsyncSession
) -> None:
    from sqlalchemy import text as sql

    xss = "<script>alert(1)</script>"
    await session.execute(
        sql("UPDATE campaigns SET label = :label WHERE label = :old"),
        {"label": f"Campaign {xss}", "old": world.campaign_label},
    )
    await session.execute(
        sql("UPDATE answers SET redacted_text = :t WHERE id = :id"),
        {
            "t": f"We support sharing {xss} with strong safeguards and oversight.",
            "id": world.answer_ids[1],
        },
    )
    await session.commit()
    await world.publish_consultation()
    page = (await world.client.get(REPORT)).text
    assert xss not in page
    # Table header, chart legend and the chart's text alternative.
    assert page.count("Campaign &lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    assert "We support sharing &lt;script&gt;" in page  # quote
