"""Loads the generated demo consultations into the database, once (idempotent by slug)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.redaction import redact_many
from app.consultations import service as consultations
from app.consultations.models import Consultation
from app.consultations.schemas import ConsultationCreate, ProposalIn, QuestionIn
from app.db import refresh_statistics
from app.demo.analysis import analyse_demo
from app.demo.audit import load_demo_audit
from app.demo.campaigns import load_demo_campaigns
from app.demo.challenges import load_demo_challenges
from app.demo.content import DemoConsultation, build_demo
from app.enums import ConsultationStatus, Role
from app.responses.models import Answer, Respondent, Response
from app.security import new_receipt_code
from app.users import service as users

# Sign-in accounts for trying the pages locally (documented in the README, demo only).
DEMO_PASSWORD = "consult-demo"
DEMO_USERS = (
    ("admin@demo.consult.example", Role.admin, "Demo administrator"),
    ("analyst@demo.consult.example", Role.analyst, "Demo analyst"),
    ("reviewer@demo.consult.example", Role.reviewer, "Demo reviewer"),
    ("reviewer2@demo.consult.example", Role.reviewer, "Second demo reviewer"),
)
STATUS_STEPS = {
    ConsultationStatus.draft: (),
    ConsultationStatus.open: ("open",),
    ConsultationStatus.closed: ("open", "close"),
    ConsultationStatus.published: ("open", "close", "publish"),
}


def _definition(demo: DemoConsultation) -> ConsultationCreate:
    return ConsultationCreate(
        slug=demo.slug,
        title=demo.title,
        description=demo.description,
        opens_at=demo.opens_at,
        closes_at=demo.closes_at,
        proposals=[
            ProposalIn(
                title=p.title,
                summary=p.summary,
                questions=[
                    QuestionIn.model_validate(
                        {
                            "number": q.number,
                            "text": q.text,
                            "kind": q.kind,
                            "options": list(q.options),
                            "required": q.required,
                            "stance_map": q.stance_map,
                        }
                    )
                    for q in p.questions
                ],
            )
            for p in demo.proposals
        ],
    )


async def _store_responses(
    session: AsyncSession,
    demo: DemoConsultation,
    consultation_id: uuid.UUID,
    question_ids: dict[str, uuid.UUID],
) -> int:
    respondents: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    texts: list[tuple[str, list[str]]] = []
    kinds = {q.key: q.kind for p in demo.proposals for q in p.questions}
    for item in demo.responses:
        respondent_id, response_id = uuid.uuid4(), uuid.uuid4()
        who = item.respondent
        respondents.append(
            {
                "id": respondent_id,
                "consultation_id": consultation_id,
                "kind": who.kind,
                "name": who.name,
                "organisation_name": who.organisation_name,
                "organisation_type": who.organisation_type,
                "region": who.region,
                "email": who.email,
                "publication_consent": who.publication_consent,
                "channel": who.channel,
                "attributes": {"demo_campaign": item.campaign} if item.campaign else {},
            }
        )
        responses.append(
            {
                "id": response_id,
                "consultation_id": consultation_id,
                "respondent_id": respondent_id,
                "receipt_code": new_receipt_code(),
                "submitted_at": item.submitted_at,
                "status": "received",
                "channel": who.channel,
            }
        )
        for key, value in item.answers.items():
            # A single choice comes as one string: it is an option, as the intake stores it.
            is_text = isinstance(value, str) and kinds.get(key, "open_text") == "open_text"
            answers.append(
                {
                    "id": uuid.uuid4(),
                    "response_id": response_id,
                    "question_id": question_ids[key],
                    "text": value if is_text else None,
                    "redacted_text": None,
                    "options": []
                    if is_text
                    else ([value] if isinstance(value, str) else list(value)),
                }
            )
            if is_text:
                texts.append((str(value), [who.name] if who.name else []))
    redacted = iter(redact_many([t for t, _ in texts], [n for _, n in texts]))
    for answer in answers:
        if answer["text"] is not None:
            answer["redacted_text"] = next(redacted).text
    if respondents:
        await session.execute(insert(Respondent), respondents)
        await session.execute(insert(Response), responses)
        await session.execute(insert(Answer), answers)
    return len(responses)


async def _load_one(session: AsyncSession, demo: DemoConsultation) -> str:
    if await session.scalar(select(Consultation.id).where(Consultation.slug == demo.slug)):
        return f"{demo.slug}: already loaded"
    detail = await consultations.create_consultation(session, data=_definition(demo))
    by_number = {q.number: q.id for p in detail.proposals for q in p.questions}
    question_ids = {q.key: by_number[q.number] for p in demo.proposals for q in p.questions}
    count = await _store_responses(session, demo, detail.id, question_ids)
    for action in STATUS_STEPS[ConsultationStatus(demo.status)]:
        await consultations.change_status(session, slug=demo.slug, action=action)
    return f"{demo.slug}: {demo.status}, {len(demo.proposals)} proposals, {count} responses"


async def _ensure_users(session: AsyncSession, slugs: list[str]) -> None:
    from app.users.models import User

    for email, role, name in DEMO_USERS:
        if await session.scalar(select(User.id).where(User.email == email)):
            continue
        user, _ = await users.create_user(
            session, email=email, role=role, name=name, password=DEMO_PASSWORD
        )
        for slug in slugs:
            await consultations.add_member(session, slug=slug, email=user.email)


async def load_demo(session: AsyncSession, *, seed: int = 2016) -> str:
    demo = build_demo(seed)
    everything = [demo, *demo.extra_consultations]
    lines = [await _load_one(session, item) for item in everything]
    await _ensure_users(session, [item.slug for item in everything])
    await refresh_statistics(session)
    lines.append(await load_demo_campaigns(session, demo))
    lines.append(await analyse_demo(session, demo))
    await refresh_statistics(session)
    lines.append(await load_demo_audit(session, demo))
    lines.append(await load_demo_challenges(session))
    lines.append(
        f"demo sign-in: {', '.join(e for e, _, _ in DEMO_USERS)} / password {DEMO_PASSWORD}"
    )
    return "\n".join(lines)
