"""The demo's challenges: a few in each state on the open demo consultation.

Raised by the demo reviewer(s) through the ordinary service (so they are audited), against
codings of answers in the first proposal with a published codeframe, a theme definition and
two reported figures; the demo analyst then accepts, rejects or the reviewer withdraws some:

- open: a coding, a theme definition, a figure;
- accepted: a coding (the answer is recoded by hand, linked to the challenge), a figure;
- rejected: a coding (the reviewer replied afterwards), a theme definition;
- withdrawn: a coding.
No theme challenge is accepted, so the demo leaves no stray draft codeframe behind.

Idempotent: nothing is done when the consultation already has challenges. Without a
published codeframe only the figure challenges are made.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.challenges import service
from app.challenges.models import Challenge
from app.challenges.schemas import (
    AcceptIn,
    CodingChallengeIn,
    FigureChallengeIn,
    MessageIn,
    RejectIn,
    ThemeChallengeIn,
    WithdrawIn,
)
from app.codeframes.models import Codeframe, Theme
from app.consultations.models import Consultation, Proposal
from app.enums import CodeframeStatus, Role
from app.users.models import Membership, User

DEMO_SLUG = "better-use-of-data"
DEMO_ANALYST = "analyst@demo.consult.example"
DEMO_REVIEWER = "reviewer@demo.consult.example"

# Answers of one proposal with their current present themes in a codeframe, in text order
# (stable across loads: answer ids are random).
ANSWERS_SQL = text(
    """
    SELECT a.id,
           coalesce(array_agg(t.code ORDER BY t.code)
                    FILTER (WHERE c.present AND c.is_current), '{}') AS codes
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    JOIN responses r ON r.id = a.response_id
    LEFT JOIN codings c ON c.answer_id = a.id AND c.codeframe_id = :codeframe
    LEFT JOIN themes t ON t.id = c.theme_id
    WHERE q.proposal_id = :proposal AND q.kind = 'open_text'
      AND r.status = 'received' AND a.redacted_text IS NOT NULL
      AND length(a.redacted_text) > 40
      -- Not in an audit sample: reviewers see those codes only after their blind review.
      AND NOT EXISTS (SELECT 1 FROM audit_sample_items i WHERE i.answer_id = a.id)
    GROUP BY a.id, a.redacted_text
    ORDER BY a.redacted_text, a.id
    """
)


async def load_demo_challenges(
    session: AsyncSession,
    *,
    slug: str = DEMO_SLUG,
    analyst_email: str = DEMO_ANALYST,
    reviewer_email: str = DEMO_REVIEWER,
) -> str:
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    analyst = await session.scalar(select(User).where(User.email == analyst_email))
    reviewer = await session.scalar(select(User).where(User.email == reviewer_email))
    if consultation is None or analyst is None or reviewer is None:
        return f"{slug}: no challenges (consultation, analyst or reviewer missing)"
    if await session.scalar(
        select(Challenge.id).where(Challenge.consultation_id == consultation.id)
    ):
        return f"{slug}: challenges already loaded"
    # A second reviewer (another member), when there is one, raises some of them.
    second = await session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.consultation_id == consultation.id,
            User.role == Role.reviewer,
            User.id != reviewer.id,
        )
        .order_by(User.email)
    )
    other = second or reviewer
    made = 0

    found = (
        await session.execute(
            select(Proposal, Codeframe)
            .join(Codeframe, Codeframe.proposal_id == Proposal.id)
            .where(
                Proposal.consultation_id == consultation.id,
                Codeframe.status == CodeframeStatus.published,
            )
            .order_by(Proposal.position)
        )
    ).first()
    if found is not None:
        proposal, codeframe = found
        themes = list(
            await session.scalars(
                select(Theme).where(Theme.codeframe_id == codeframe.id).order_by(Theme.position)
            )
        )
        rows = await session.execute(
            ANSWERS_SQL, {"codeframe": codeframe.id, "proposal": proposal.id}
        )
        answers = [(row.id, list(row.codes)) for row in rows]
        if len(themes) >= 2 and len(answers) >= 4:
            made += await _coding_challenges(
                session, slug, codeframe, themes, answers, analyst, reviewer, other
            )
            made += await _theme_challenges(session, slug, codeframe, themes, analyst, reviewer)
        first_proposal: uuid.UUID | None = proposal.id
    else:
        first_proposal = None
    made += await _figure_challenges(session, slug, first_proposal, analyst, reviewer, other)
    await session.flush()
    return f"{slug}: {made} challenges (open, accepted, rejected and withdrawn)"


async def _coding_challenges(
    session: AsyncSession,
    slug: str,
    codeframe: Codeframe,
    themes: list[Theme],
    answers: list[tuple[uuid.UUID, list[str]]],
    analyst: User,
    reviewer: User,
    other: User,
) -> int:
    labels = {t.code: t.label for t in themes}
    step = max(1, len(answers) // 4)
    picked = [answers[i * step] for i in range(4)]

    def alternative(codes: list[str], n: int) -> tuple[str, list[str], str]:
        """The challenged theme, the proposed set, and the reason."""
        if codes:
            drop = codes[n % len(codes)]
            return (
                drop,
                [c for c in codes if c != drop],
                f"The answer does not talk about '{labels[drop]}'; it only mentions it in passing.",
            )
        add = themes[n % len(themes)].code
        return add, [add], f"The answer is clearly about '{labels[add]}', but no theme is coded."

    made = []
    for n, (answer_id, codes) in enumerate(picked):
        theme, proposed, reason = alternative(codes, n)
        raised = await service.raise_challenge(
            session,
            slug=slug,
            user=reviewer if n % 2 == 0 else other,
            data=CodingChallengeIn(
                kind="coding",
                answer_id=answer_id,
                theme=theme,
                codeframe_id=codeframe.id,
                proposed_themes=proposed,
                reason=reason,
            ),
        )
        made.append(raised)
    open_, accepted, rejected, withdrawn = made
    await service.add_message(
        session,
        challenge_id=open_.id,
        user=analyst,
        data=MessageIn(body="Thanks, we will look at this with the other answers of the batch."),
    )
    await service.accept(
        session,
        challenge_id=accepted.id,
        user=analyst,
        data=AcceptIn(resolution="Agreed: recoded by hand as proposed."),
    )
    await service.reject(
        session,
        challenge_id=rejected.id,
        user=analyst,
        data=RejectIn(
            reason="The theme's guidance covers this answer: it names the concern directly."
        ),
    )
    await service.add_message(
        session,
        challenge_id=rejected.id,
        user=other,
        data=MessageIn(body="Understood. Could the guidance say so more plainly?"),
    )
    await service.withdraw(
        session,
        challenge_id=withdrawn.id,
        user=other,  # who raised it (every odd one)
        data=WithdrawIn(note="I misread the answer; the coding is right."),
    )
    return 4


async def _theme_challenges(
    session: AsyncSession,
    slug: str,
    codeframe: Codeframe,
    themes: list[Theme],
    analyst: User,
    reviewer: User,
) -> int:
    first, second = themes[0], themes[1]
    await service.raise_challenge(
        session,
        slug=slug,
        user=reviewer,
        data=ThemeChallengeIn(
            kind="theme",
            codeframe_id=codeframe.id,
            theme=first.code,
            proposed_description=(
                first.description + " Includes worries about who can see it."
            ).strip()[:5000],
            reason="Answers about who can see the data are coded inconsistently.",
        ),
    )
    rejected = await service.raise_challenge(
        session,
        slug=slug,
        user=reviewer,
        data=ThemeChallengeIn(
            kind="theme",
            codeframe_id=codeframe.id,
            theme=second.code,
            proposed_label=f"{second.label} (and related concerns)"[:200],
            reason="The label is narrower than the answers coded with it.",
        ),
    )
    await service.reject(
        session,
        challenge_id=rejected.id,
        user=analyst,
        data=RejectIn(reason="A wider label would merge two concerns we report separately."),
    )
    return 2


async def _figure_challenges(
    session: AsyncSession,
    slug: str,
    proposal_id: uuid.UUID | None,
    analyst: User,
    reviewer: User,
    other: User,
) -> int:
    await service.raise_challenge(
        session,
        slug=slug,
        user=other,
        data=FigureChallengeIn(
            kind="figure",
            figure="Number of responses",
            proposed_text="Report the campaign letters separately from the other responses.",
            reason="An organised campaign's copies are counted as if they were separate views.",
        ),
    )
    accepted = await service.raise_challenge(
        session,
        slug=slug,
        user=reviewer,
        data=FigureChallengeIn(
            kind="figure",
            proposal_id=proposal_id,
            figure="Share of respondents who support the proposal",
            proposed_text="Say 'of those who answered the question', with the number.",
            reason="Counts are not votes: the share leaves out people who did not answer.",
        ),
    )
    await service.accept(
        session,
        challenge_id=accepted.id,
        user=analyst,
        data=AcceptIn(resolution="The report now gives the base of every share."),
    )
    return 2
