"""The published report of a consultation: per proposal what was said and by whom (type),
and a method section generated from the data.

Who may read it: anyone once the consultation is `published`; before that its admins and
analysts (a preview, marked as such); everyone else gets 404, as for a draft.

What it shows (all from the database, nothing typed in by hand):

* per proposal, theme counts and shares (unit: answer; from `app.themes.service.summary`)
  for all respondents outside campaigns, individuals and organisations, with each campaign's
  answers in columns of their own; the stance breakdown (unit: response) by kind, campaign
  responses apart; representative quotes, only from respondents who consented to
  publication, redacted, anonymised where they asked (no organisation name), never from
  campaign members (the campaign's template is shown instead);
* the method: responses by channel and kind, exclusions and withdrawals, campaigns, every
  codeframe version with its change log, the analysis runs with their cross-validated
  per-theme metrics, the audit samples (design, size, seed) with their agreement statistics
  and intervals, and challenges by status with their outcomes.

Counts are never presented as votes: the report says so beside the first table.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.models import Codeframe, Theme
from app.consultations.models import Consultation, Proposal
from app.consultations.service import get_consultation, require_access
from app.enums import CodeframeStatus, ConsultationStatus, PublicationConsent, RespondentKind, Role
from app.errors import ConsultError, NotFound
from app.jobs.models import AnalysisRun
from app.reports.charts import Series, bar_chart, interval_chart
from app.users.models import User

STANCES = ("support", "oppose", "mixed", "neutral", "unclear")
STANCE_LABELS = {
    "support": "Support",
    "oppose": "Oppose",
    "mixed": "Mixed",
    "neutral": "Neutral",
    "unclear": "Unclear",
    "none": "No stance recorded",
}
KIND_LABELS = {"individual": "Individuals", "organisation": "Organisations"}
QUOTES_PER_THEME = 2
QUOTE_MIN_CHARS, QUOTE_MAX_CHARS = 40, 600


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    count: int
    n: int

    @property
    def share(self) -> float | None:
        return self.count / self.n if self.n else None

    @property
    def percent(self) -> str:
        share = self.share
        return "-" if share is None else f"{share * 100:.0f}%"

    def __str__(self) -> str:
        return f"{self.count:,} ({self.percent})" if self.n else f"{self.count:,}"


@dataclass
class ThemeLine:
    code: str
    label: str
    parent_code: str | None
    all: Cell
    individual: Cell
    organisation: Cell
    campaigns: list[Cell]


@dataclass
class StanceLine:
    value: str
    label: str
    individual: Cell
    organisation: Cell
    campaign: Cell
    all: Cell


@dataclass
class Quote:
    theme_code: str
    theme_label: str
    text: str
    attribution: str


@dataclass
class ProposalSection:
    id: uuid.UUID
    number: int
    title: str
    summary: str
    codeframe_version: int | None
    n_all: int = 0
    n_individual: int = 0
    n_organisation: int = 0
    campaign_columns: list[tuple[str, int]] = field(default_factory=list)
    themes: list[ThemeLine] = field(default_factory=list)
    theme_chart: Markup | None = None
    stances: list[StanceLine] = field(default_factory=list)
    stance_chart: Markup | None = None
    stance_responses: int = 0
    quotes: dict[str, list[Quote]] = field(default_factory=dict)
    note: str | None = None


# --------------------------------------------------------------------------------------
# Method
# --------------------------------------------------------------------------------------


@dataclass
class ChannelLine:
    channel: str
    individual: int
    organisation: int

    @property
    def total(self) -> int:
        return self.individual + self.organisation


@dataclass
class CampaignLine:
    label: str
    members: int
    template: str


@dataclass
class CodeframeVersion:
    proposal: str
    version: int
    status: str
    published_at: datetime | None
    themes: int
    changes: list[str]


@dataclass
class RunLine:
    kind: str
    proposal: str | None
    status: str
    finished_at: datetime | None
    data_count: int
    seed: int
    code_version: str
    codeframe_version: int | None
    summary: list[tuple[str, str]]
    per_theme: list[dict[str, Any]]
    chart: Markup | None = None


@dataclass
class SampleLine:
    proposal: str
    design: str
    size: int
    population: int
    seed: int
    codeframe_version: int
    detail: list[tuple[str, str]]
    agreement: list[tuple[str, str]]
    notes: list[str]
    chart: Markup | None = None


@dataclass
class ChallengeLine:
    kind: str
    subject: str
    status: str
    reason: str
    resolution: str
    decided_at: datetime | None


@dataclass
class Method:
    channels: list[ChannelLine]
    channel_chart: Markup | None
    statuses: dict[str, int]
    exclusions: list[tuple[str, int]]
    campaigns: list[CampaignLine]
    codeframes: list[CodeframeVersion]
    runs: list[RunLine]
    samples: list[SampleLine]
    challenge_counts: dict[str, int]
    challenges: list[ChallengeLine]
    gaps: list[str]
    exclusion_chart: Markup | None = None
    campaign_chart: Markup | None = None
    challenge_chart: Markup | None = None


@dataclass
class Report:
    slug: str
    title: str
    description: str
    status: str
    preview: bool
    generated_at: datetime
    opens_at: datetime | None
    closes_at: datetime | None
    respondents: int
    proposals: list[ProposalSection]
    method: Method


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


async def _is_analyst(session: AsyncSession, consultation: Consultation, user: User | None) -> bool:
    if user is None or user.role not in (Role.admin, Role.analyst):
        return False
    try:
        await require_access(
            session, consultation=consultation, user=user, roles=(Role.analyst,), action="preview"
        )
    except ConsultError:
        return False
    return True


async def authorise(
    session: AsyncSession, *, slug: str, user: User | None, operator: bool = False
) -> tuple[Consultation, bool]:
    """(consultation, preview): public once published; before, its admins and analysts
    (and the CLI operator) see a preview; everyone else 404."""
    if operator:
        consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
        if consultation is None:
            raise NotFound(f"No consultation '{slug}'.")
    else:
        consultation = await get_consultation(session, slug=slug, user=user, structure=False)
    if consultation.status == ConsultationStatus.published:
        return consultation, False
    if operator or await _is_analyst(session, consultation, user):
        return consultation, True
    raise NotFound(f"The report on '{slug}' is not published yet.")


def _reader(user: User | None, preview: bool) -> User:
    """Whom the other domains' services read as: the analyst previewing, or (published
    report, CLI) a transient read-only admin identity that is never stored."""
    if preview and user is not None:
        return user
    return User(
        id=uuid.UUID(int=0),
        email="published-report@consult.invalid",
        name="Published report",
        role=Role.admin,
    )


# --------------------------------------------------------------------------------------
# Proposals: themes, stance, quotes
# --------------------------------------------------------------------------------------


async def _theme_lines(
    session: AsyncSession, section: ProposalSection, reader: User | None
) -> None:
    from app.themes import service as themes_service
    from app.themes.schemas import CampaignMode, Filters

    try:
        overall = await themes_service.summary(
            session,
            proposal_id=section.id,
            user=reader,
            filters=Filters(campaign=CampaignMode.separate),
        )
    except themes_service.NoPublishedCodeframe:
        section.note = (
            "No codeframe has been published for this proposal yet, so its answers have "
            "not been coded into themes."
        )
        return
    by_kind = {
        kind: await themes_service.summary(
            session,
            proposal_id=section.id,
            user=reader,
            filters=Filters(respondent_kind=RespondentKind(kind), campaign=CampaignMode.separate),
        )
        for kind in ("individual", "organisation")
    }
    section.codeframe_version = overall.codeframe.version
    section.n_all = overall.n
    section.n_individual = by_kind["individual"].n
    section.n_organisation = by_kind["organisation"].n
    section.campaign_columns = [(c.label, c.n) for c in overall.campaigns]
    ind = {t.code: t for t in by_kind["individual"].themes}
    org = {t.code: t for t in by_kind["organisation"].themes}
    for t in overall.themes:
        section.themes.append(
            ThemeLine(
                code=t.code,
                label=t.label,
                parent_code=t.parent_code,
                all=Cell(t.count, overall.n),
                individual=Cell(ind[t.code].count, section.n_individual),
                organisation=Cell(org[t.code].count, section.n_organisation),
                campaigns=[
                    Cell(c.count, n)
                    for c, (_, n) in zip(t.campaigns, section.campaign_columns, strict=True)
                ],
            )
        )
    if section.themes:
        categories = [f"{t.code} {t.label}" for t in section.themes]
        series = [
            Series(
                "Individuals",
                [t.individual.share or 0.0 for t in section.themes],
                [str(t.individual) for t in section.themes],
            ),
            Series(
                "Organisations",
                [t.organisation.share or 0.0 for t in section.themes],
                [str(t.organisation) for t in section.themes],
            ),
        ]
        for i, (label, _) in enumerate(section.campaign_columns):
            series.append(
                Series(
                    f"Campaign: {label}",
                    [t.campaigns[i].share or 0.0 for t in section.themes],
                    [str(t.campaigns[i]) for t in section.themes],
                )
            )
        section.theme_chart = bar_chart(
            title=f"Proposal {section.number}: share of answers mentioning each theme",
            description=(
                "Bars show the share of answers in each group that mention the theme "
                "(count and percentage)."
            ),
            categories=categories,
            series=series,
            scale_max=1.0,
        )


STANCE_SQL = text(
    """
    SELECT rs.kind, r.campaign_id IS NOT NULL AS in_campaign,
           coalesce(s.value, 'none') AS value, count(*) AS n
    FROM responses r
    JOIN respondents rs ON rs.id = r.respondent_id
    LEFT JOIN stances s ON s.response_id = r.id AND s.proposal_id = :proposal_id AND s.is_current
    WHERE r.consultation_id = :consultation_id AND r.status = 'received'
      AND EXISTS (
        SELECT 1 FROM answers a JOIN questions q ON q.id = a.question_id
        WHERE a.response_id = r.id AND q.proposal_id = :proposal_id
      )
    GROUP BY 1, 2, 3
    """
)


async def _stance_lines(
    session: AsyncSession, section: ProposalSection, consultation_id: uuid.UUID
) -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for kind, in_campaign, value, n in await session.execute(
        STANCE_SQL, {"proposal_id": section.id, "consultation_id": consultation_id}
    ):
        group = "campaign" if in_campaign else kind
        counts[(group, value)] += int(n)
    totals: Counter[str] = Counter()
    for (group, _), n in counts.items():
        totals[group] += n
    section.stance_responses = sum(totals.values())
    values = [*STANCES, "none"]
    all_n = sum(totals.values())
    for value in values:
        line = StanceLine(
            value=value,
            label=STANCE_LABELS[value],
            individual=Cell(counts[("individual", value)], totals["individual"]),
            organisation=Cell(counts[("organisation", value)], totals["organisation"]),
            campaign=Cell(counts[("campaign", value)], totals["campaign"]),
            all=Cell(sum(counts[(g, value)] for g in totals), all_n),
        )
        if value == "none" and line.all.count == 0:
            continue
        section.stances.append(line)
    if section.stance_responses:
        series = [
            Series(
                "Individuals",
                [s.individual.share or 0.0 for s in section.stances],
                [str(s.individual) for s in section.stances],
            ),
            Series(
                "Organisations",
                [s.organisation.share or 0.0 for s in section.stances],
                [str(s.organisation) for s in section.stances],
            ),
        ]
        if totals["campaign"]:
            series.append(
                Series(
                    "Campaign responses",
                    [s.campaign.share or 0.0 for s in section.stances],
                    [str(s.campaign) for s in section.stances],
                )
            )
        section.stance_chart = bar_chart(
            title=f"Proposal {section.number}: stance of responses",
            description="Bars show the share of responses in each group with each stance.",
            categories=[s.label for s in section.stances],
            series=series,
            scale_max=1.0,
        )


QUOTES_SQL = text(
    """
    SELECT code, answer_id, redacted_text, kind, publication_consent, organisation_name, region
    FROM (
        SELECT t.code, a.id AS answer_id, a.redacted_text, rs.kind, rs.publication_consent,
               rs.organisation_name, rs.region,
               row_number() OVER (
                   PARTITION BY t.id
                   ORDER BY coalesce(c.confidence, 1.0) DESC, md5(a.id::text)
               ) AS rank
        FROM codings c
        JOIN themes t ON t.id = c.theme_id
        JOIN answers a ON a.id = c.answer_id
        JOIN responses r ON r.id = a.response_id
        JOIN respondents rs ON rs.id = r.respondent_id
        WHERE c.codeframe_id = :codeframe_id AND c.is_current AND c.present
          AND r.status = 'received' AND r.campaign_id IS NULL
          AND rs.publication_consent IN ('publish', 'publish_anonymously')
          AND a.redacted_text IS NOT NULL
          AND char_length(a.redacted_text) BETWEEN :min_chars AND :max_chars
    ) ranked
    WHERE rank <= :per_theme
    ORDER BY code, rank
    """
)


def _attribution(row: Any) -> str:
    anonymous = row.publication_consent == PublicationConsent.publish_anonymously.value
    if row.kind == RespondentKind.organisation.value:
        if not anonymous and row.organisation_name:
            return str(row.organisation_name)
        return "An organisation"
    where = f", {row.region}" if row.region and not anonymous else ""
    return f"An individual{where}"


async def _quotes(session: AsyncSession, section: ProposalSection, codeframe_id: uuid.UUID) -> None:
    """Per theme, the most confidently coded consenting answers (a person's coding counts as
    1.0; ties broken by a hash of the answer id, so the choice is stable and not by
    submission order). An answer is quoted once; a few spares per theme cover that."""
    labels = {t.code: t.label for t in section.themes}
    candidates: dict[str, list[Any]] = defaultdict(list)
    for row in await session.execute(
        QUOTES_SQL,
        {
            "codeframe_id": codeframe_id,
            "min_chars": QUOTE_MIN_CHARS,
            "max_chars": QUOTE_MAX_CHARS,
            "per_theme": QUOTES_PER_THEME * 4,
        },
    ):
        candidates[row.code].append(row)
    used: set[uuid.UUID] = set()
    for code in labels:
        chosen: list[Quote] = []
        for row in candidates.get(code, []):
            if row.answer_id in used:
                continue
            used.add(row.answer_id)
            chosen.append(Quote(code, labels[code], row.redacted_text, _attribution(row)))
            if len(chosen) >= QUOTES_PER_THEME:
                break
        if chosen:
            section.quotes[code] = chosen


# --------------------------------------------------------------------------------------
# Method
# --------------------------------------------------------------------------------------


def _describe_change(entry: dict[str, Any]) -> str:
    op = entry.get("op", "?")
    raw_theme = entry.get("theme")
    theme: dict[str, Any] = raw_theme if isinstance(raw_theme, dict) else {}
    into = entry.get("into")
    if op == "create":
        return f"Created with {entry.get('themes', 0)} themes"
    if op == "based_on":
        return f"Started from version {entry.get('version')}"
    if op == "publish":
        carried = entry.get("carried_codings")
        return "Published" + (f"; {carried} codings carried over" if carried else "")
    if op == "add":
        code = entry.get("code") or theme.get("code") or ""
        label = entry.get("label") or theme.get("label") or ""
        return f"Added {code} {label}".strip()
    if op == "rename":
        before = entry.get("before") or entry.get("old_label") or ""
        after = entry.get("label") or entry.get("after") or entry.get("new_label") or ""
        return f"Renamed {entry.get('code', '')}" + (
            f": '{before}' to '{after}'" if before and after else ""
        )
    if op == "merge":
        target = into.get("code") if isinstance(into, dict) else into
        codes = ", ".join(entry.get("codes", []))
        return f"Merged {codes}" + (f" into {target}" if target else "")
    if op == "split":
        targets = into if isinstance(into, list) else entry.get("codes", [])
        names = ", ".join(t.get("code", "") if isinstance(t, dict) else str(t) for t in targets)
        return f"Split {entry.get('code', '')}" + (f" into {names}" if names else "")
    if op == "retire":
        return f"Retired {entry.get('code', '')}"
    if op == "edit":
        return f"Edited the definition of {entry.get('code', '')}"
    return op


async def _channels(
    session: AsyncSession, consultation_id: uuid.UUID
) -> tuple[list[ChannelLine], dict[str, int], int]:
    rows = await session.execute(
        text(
            "SELECT r.channel, rs.kind, r.status, count(*) FROM responses r "
            "JOIN respondents rs ON rs.id = r.respondent_id "
            "WHERE r.consultation_id = :id GROUP BY 1, 2, 3"
        ),
        {"id": consultation_id},
    )
    by_channel: dict[str, ChannelLine] = {}
    statuses: Counter[str] = Counter()
    for channel, kind, status, n in rows:
        statuses[status] += int(n)
        if status != "received":
            continue
        line = by_channel.setdefault(channel, ChannelLine(channel, 0, 0))
        if kind == "organisation":
            line.organisation += int(n)
        else:
            line.individual += int(n)
    lines = sorted(by_channel.values(), key=lambda c: (-c.total, c.channel))
    return lines, dict(statuses), statuses["received"]


async def _exclusions(session: AsyncSession, consultation_id: uuid.UUID) -> list[tuple[str, int]]:
    rows = await session.execute(
        text(
            "SELECT coalesce(nullif(status_reason, ''), 'No reason recorded'), count(*) "
            "FROM responses WHERE consultation_id = :id AND status = 'excluded' "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        ),
        {"id": consultation_id},
    )
    return [(reason, int(n)) for reason, n in rows]


async def _campaigns(session: AsyncSession, consultation_id: uuid.UUID) -> list[CampaignLine]:
    rows = await session.execute(
        text(
            "SELECT c.label, c.template_text, count(r.id) FROM campaigns c "
            "LEFT JOIN responses r ON r.campaign_id = c.id AND r.status = 'received' "
            "WHERE c.consultation_id = :id GROUP BY c.id ORDER BY count(r.id) DESC, c.label"
        ),
        {"id": consultation_id},
    )
    return [CampaignLine(label, int(n), template) for label, template, n in rows]


async def _codeframes(session: AsyncSession, proposals: list[Proposal]) -> list[CodeframeVersion]:
    """Every published or superseded version, per proposal in order, with its change log."""
    titles = {p.id: f"{p.position + 1}. {p.title}" for p in proposals}
    order = {p.id: p.position for p in proposals}
    counted = await session.execute(
        select(Theme.codeframe_id, func.count())
        .join(Codeframe, Codeframe.id == Theme.codeframe_id)
        .where(Codeframe.proposal_id.in_(list(titles)))
        .group_by(Theme.codeframe_id)
    )
    sizes = {codeframe_id: int(n) for codeframe_id, n in counted.all()}
    frames = await session.scalars(
        select(Codeframe).where(
            Codeframe.proposal_id.in_(list(titles)),
            Codeframe.status != CodeframeStatus.draft,
        )
    )
    ordered = sorted(frames, key=lambda cf: (order[cf.proposal_id], cf.version))
    return [
        CodeframeVersion(
            proposal=titles[cf.proposal_id],
            version=cf.version,
            status=cf.status.value,
            published_at=cf.published_at,
            themes=int(sizes.get(cf.id, 0)),
            changes=[_describe_change(e) for e in cf.change_log],
        )
        for cf in ordered
    ]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


async def _runs(
    session: AsyncSession, consultation_id: uuid.UUID, proposals: list[Proposal]
) -> list[RunLine]:
    titles = {p.id: f"{p.position + 1}. {p.title}" for p in proposals}
    runs = await session.scalars(
        select(AnalysisRun)
        .where(AnalysisRun.consultation_id == consultation_id)
        .order_by(AnalysisRun.created_at)
    )
    versions = {
        cf.id: cf.version
        for cf in await session.scalars(
            select(Codeframe).where(Codeframe.proposal_id.in_(list(titles)))
        )
    }
    out: list[RunLine] = []
    for run in runs:
        metrics = run.metrics or {}
        raw_cv = metrics.get("cv")
        cv: dict[str, Any] = raw_cv if isinstance(raw_cv, dict) else {}
        summary: list[tuple[str, str]] = []
        if cv:
            for key, name in (
                ("folds", "Cross-validation folds"),
                ("sample_f1", "Sample-averaged F1"),
                ("micro_f1", "Micro F1"),
                ("macro_f1", "Macro F1"),
                ("accuracy", "Accuracy"),
            ):
                if key in cv:
                    summary.append((name, _fmt(cv[key])))
        if isinstance(metrics.get("training_count"), int):
            summary.append(("Hand-coded training answers", f"{metrics['training_count']:,}"))
        per_theme = []
        raw_themes = cv.get("themes")
        themes: dict[str, Any] = raw_themes if isinstance(raw_themes, dict) else {}
        for code, values in sorted(themes.items()):
            if isinstance(values, dict):
                per_theme.append({"code": code, **values})
        codeframe_id = (run.parameters or {}).get("codeframe_id")
        try:
            version = versions.get(uuid.UUID(str(codeframe_id))) if codeframe_id else None
        except ValueError:
            version = None
        out.append(
            RunLine(
                kind=run.kind,
                proposal=titles.get(run.proposal_id) if run.proposal_id else None,
                status=run.status.value,
                finished_at=run.finished_at,
                data_count=run.data_count,
                seed=run.seed,
                code_version=run.code_version,
                codeframe_version=version,
                summary=summary,
                per_theme=per_theme,
                chart=_metrics_chart(run.kind, per_theme),
            )
        )
    return out


def _metrics_chart(kind: str, per_theme: list[dict[str, Any]]) -> Markup | None:
    rows = [t for t in per_theme if isinstance(t.get("f1"), int | float)]
    if not rows:
        return None
    series = [
        Series(
            name,
            [float(t.get(key) or 0.0) for t in rows],
            [f"{float(t.get(key) or 0.0):.2f}" for t in rows],
        )
        for key, name in (("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))
        if all(isinstance(t.get(key), int | float) for t in rows)
    ]
    return bar_chart(
        title=f"Cross-validated precision, recall and F1 per theme ({kind} run)",
        description="Bars run from 0 to 1.",
        categories=[str(t["code"]) for t in rows],
        series=series,
        scale_max=1.0,
    )


def _count_chart(title: str, items: list[tuple[str, int]], series: str) -> Markup | None:
    if not items or not any(n for _, n in items):
        return None
    return bar_chart(
        title=title,
        categories=[label for label, _ in items],
        series=[Series(series, [float(n) for _, n in items], [f"{n:,}" for _, n in items])],
    )


def _estimate(value: Any) -> str:
    """'0.812 (95% CI 0.74 to 0.87)' from an analysis Estimate dict."""
    if not isinstance(value, dict) or value.get("value") is None:
        return "-"
    text_ = f"{value['value']:.3f}"
    if value.get("low") is not None and value.get("high") is not None:
        level = round(float(value.get("confidence", 0.95)) * 100)
        text_ += f" ({level}% CI {value['low']:.3f} to {value['high']:.3f})"
    return text_


def _agreement_lines(
    agreement: Any,
) -> tuple[list[tuple[str, str]], list[str], Markup | None]:
    """The sample's agreement figures as text (with intervals), its notes, and a chart of
    the estimates with their intervals."""
    lines: list[tuple[str, str]] = [
        ("Items reviewed", f"{agreement.reviewed_items} of {agreement.items}"),
        ("Reviews", str(agreement.reviews)),
        ("Reviewers", str(len(agreement.reviewers))),
    ]
    points: list[tuple[str, dict[str, Any]]] = []

    def add(name: str, estimate: Any) -> None:
        lines.append((name, _estimate(estimate)))
        if isinstance(estimate, dict) and isinstance(estimate.get("value"), int | float):
            points.append((name, estimate))

    for title, report in (
        ("Reviewers vs current codes", agreement.reviewers_and_current),
        ("Among reviewers", agreement.among_reviewers),
    ):
        overall = (report or {}).get("overall") if report else None
        if not overall:
            continue
        add(f"{title}: percent agreement", overall.get("percent_agreement"))
        if overall.get("cohen_kappa"):
            add(f"{title}: Cohen's kappa", overall.get("cohen_kappa"))
        add(f"{title}: Fleiss' kappa", overall.get("fleiss_kappa"))
        add(f"{title}: Krippendorff's alpha", overall.get("krippendorff_alpha"))
    prf = agreement.current_vs_reviewers
    if prf:
        for avg in ("micro", "samples"):
            f1 = (prf.get(avg) or {}).get("f1")
            if f1:
                name = "sample-averaged" if avg == "samples" else avg
                add(f"Current codes vs reviews: {name} F1", f1)
    error = agreement.error_rate or {}
    rate = error.get("overall")
    if isinstance(rate, dict) and rate.get("value") is not None:
        add("Estimated coding error rate", rate)
    chart = None
    if points:
        chart = interval_chart(
            title="Agreement and error estimates with their intervals",
            description="Dots are estimates, lines their intervals, on a scale up to 1.",
            categories=[name for name, _ in points],
            estimates=[(float(e["value"]), e.get("low"), e.get("high")) for _, e in points],
            labels=[_estimate(e) for _, e in points],
        )
    return lines, list(agreement.notes or []), chart


async def _samples(
    session: AsyncSession, proposals: list[Proposal], reader: User, gaps: list[str]
) -> list[SampleLine]:
    try:
        from app.samples import service as samples_service
    except ImportError:
        gaps.append("Audit samples: the audit sample service is not installed.")
        return []
    out: list[SampleLine] = []
    for proposal in proposals:
        for sample in await samples_service.list_samples(
            session, proposal_id=proposal.id, user=reader
        ):
            design = "simple random"
            if sample.stratify_by is not None:
                design = (
                    f"stratified by {sample.stratify_by.value.replace('_', ' ')} "
                    f"({sample.allocation} allocation)"
                )
            detail = [
                ("Population (coded answers)", f"{sample.population:,}"),
                ("Sample size", f"{sample.size:,}"),
                ("Random seed", str(sample.seed)),
                ("Confidence level", f"{sample.confidence:.0%}"),
            ]
            if sample.target_margin is not None:
                detail.append(("Target margin of error", f"±{sample.target_margin:.1%}"))
            if sample.sample_sizes and sample.stratify_by is not None:
                detail.append(
                    (
                        "Per stratum (sample / population)",
                        "; ".join(
                            f"{k}: {v} / {sample.population_sizes.get(k, 0)}"
                            for k, v in sorted(sample.sample_sizes.items())
                        ),
                    )
                )
            agreement_lines: list[tuple[str, str]] = []
            notes: list[str] = []
            chart = None
            try:
                agreement = await samples_service.agreement(
                    session, sample_id=sample.id, user=reader
                )
                agreement_lines, notes, chart = _agreement_lines(agreement)
            except ConsultError as exc:
                notes.append(f"Agreement not available: {exc.message}")
            out.append(
                SampleLine(
                    proposal=f"{proposal.position + 1}. {proposal.title}",
                    design=design,
                    size=sample.size,
                    population=sample.population,
                    seed=sample.seed,
                    codeframe_version=sample.codeframe_version,
                    detail=detail,
                    agreement=agreement_lines,
                    notes=notes,
                    chart=chart,
                )
            )
    return out


async def _challenges(
    session: AsyncSession, slug: str, reader: User, gaps: list[str]
) -> tuple[dict[str, int], list[ChallengeLine]]:
    try:
        from app.challenges import service as challenges_service
    except ImportError:
        gaps.append("Challenges: the challenge service is not installed.")
        return {}, []
    summary = await challenges_service.summary(session, slug=slug, user=reader)
    counts = summary.counts.model_dump()
    lines = []
    for c in await challenges_service.list_challenges(session, slug=slug, user=reader):
        subject = {
            "coding": "The coding of an answer",
            "theme": f"Theme {c.theme_code or ''} definition".replace("  ", " "),
            "figure": f"Reported figure: {c.figure}" if c.figure else "A reported figure",
        }.get(c.kind.value, c.kind.value)
        if c.proposal_title:
            subject += f" (proposal: {c.proposal_title})"
        lines.append(
            ChallengeLine(
                kind=c.kind.value,
                subject=subject,
                status=c.status.value,
                reason=c.reason,
                resolution=c.resolution,
                decided_at=c.decided_at,
            )
        )
    return counts, lines


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


async def build_report(
    session: AsyncSession, *, slug: str, user: User | None, operator: bool = False
) -> Report:
    consultation, preview = await authorise(session, slug=slug, user=user, operator=operator)
    reader = _reader(user, preview and not operator)
    proposals = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.position)
        )
    )
    sections: list[ProposalSection] = []
    for proposal in proposals:
        section = ProposalSection(
            id=proposal.id,
            number=proposal.position + 1,
            title=proposal.title,
            summary=proposal.summary,
            codeframe_version=None,
        )
        await _theme_lines(session, section, reader)
        await _stance_lines(session, section, consultation.id)
        codeframe = await session.scalar(
            select(Codeframe).where(
                Codeframe.proposal_id == proposal.id,
                Codeframe.status == CodeframeStatus.published,
            )
        )
        if codeframe is not None and section.themes:
            await _quotes(session, section, codeframe.id)
        sections.append(section)

    gaps: list[str] = []
    channels, statuses, received = await _channels(session, consultation.id)
    channel_chart = None
    if channels:
        channel_chart = bar_chart(
            title="Responses by channel and type of respondent",
            categories=[c.channel for c in channels],
            series=[
                Series(
                    "Individuals",
                    [float(c.individual) for c in channels],
                    [f"{c.individual:,}" for c in channels],
                ),
                Series(
                    "Organisations",
                    [float(c.organisation) for c in channels],
                    [f"{c.organisation:,}" for c in channels],
                ),
            ],
        )
    challenge_counts, challenges = await _challenges(session, consultation.slug, reader, gaps)
    exclusions = await _exclusions(session, consultation.id)
    campaigns = await _campaigns(session, consultation.id)
    method = Method(
        channels=channels,
        channel_chart=channel_chart,
        statuses=statuses,
        exclusions=exclusions,
        campaigns=campaigns,
        codeframes=await _codeframes(session, proposals),
        runs=await _runs(session, consultation.id, proposals),
        samples=await _samples(session, proposals, reader, gaps),
        challenge_counts=challenge_counts,
        challenges=challenges,
        gaps=gaps,
        exclusion_chart=_count_chart("Responses excluded, by reason", exclusions, "Responses"),
        campaign_chart=_count_chart(
            "Responses in each campaign", [(c.label, c.members) for c in campaigns], "Responses"
        ),
        challenge_chart=_count_chart(
            "Challenges by status",
            [
                (status.capitalize(), challenge_counts.get(status, 0))
                for status in ("open", "accepted", "rejected", "withdrawn")
            ],
            "Challenges",
        ),
    )
    return Report(
        slug=consultation.slug,
        title=consultation.title,
        description=consultation.description,
        status=consultation.status.value,
        preview=preview,
        generated_at=datetime.now(UTC),
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        respondents=received,
        proposals=sections,
        method=method,
    )
