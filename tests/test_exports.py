"""Exports: CSV, XLSX, JSONL, the ThemeFinder layout (round trip through the import) and the
public open-data file (consent rules, no personal data)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.models import Campaign
from app.codeframes import service as codeframes_service
from app.codeframes.schemas import CodeframeCreate, ThemeIn
from app.coding import service as coding_service
from app.coding.schemas import CodesIn
from app.enums import Role
from app.exports import service as exports_service
from app.imports import service as imports_service
from app.responses.models import Answer, Response
from app.users import service as users_service
from app.users.models import User
from tests.conftest import Users, bearer
from tests.factories import create_consultation
from tests.test_auth import ANALYST_MEMBER, ROUTE_ACCESS

SLUG = "exports"
FORMULA = '=HYPERLINK("http://evil.example","click") is what I think'

# (respondent, text of question 1, stance option, themes of proposal 1, campaign member)
PEOPLE: list[dict[str, Any]] = [
    {
        "respondent": {
            "kind": "individual",
            "name": "Alice Jones",
            "email": "alice@example.org",
            "region": "London",
            "publication_consent": "publish",
        },
        "text": FORMULA,
        "stance": "Agree",
        "themes": ["P1-01"],
    },
    {
        "respondent": {
            "kind": "organisation",
            "organisation_name": "Acme Data Trust",
            "organisation_type": "Charity",
            "email": "office@acme.example",
            "region": "Wales",
            "publication_consent": "publish",
        },
        "text": "We support sharing with strong safeguards and independent oversight.",
        "stance": "Agree",
        "themes": ["P1-01", "P1-02"],
    },
    {
        "respondent": {
            "kind": "organisation",
            "organisation_name": "Quiet Foundation",
            "organisation_type": "Charity",
            "region": "Scotland",
            "publication_consent": "publish_anonymously",
        },
        "text": "-Privacy comes first; this goes too far.",
        "stance": "Disagree",
        "themes": ["P1-03"],
    },
    {
        "respondent": {
            "kind": "individual",
            "name": "Bob Private",
            "email": "bob@example.org",
            "region": "London",
            "publication_consent": "do_not_publish",
        },
        "text": "My private view: sharing my records frightens me.",
        "stance": "Disagree",
        "themes": ["P1-03"],
    },
    {
        "respondent": {"kind": "individual", "publication_consent": "publish"},
        "text": "Stop the data grab. Protect our privacy now.",
        "stance": "Disagree",
        "themes": ["P1-03"],
        "campaign": True,
    },
    {
        "respondent": {"kind": "individual", "publication_consent": "publish"},
        "text": "Stop the data grab. Protect our privacy now!",
        "stance": "Disagree",
        "themes": ["P1-03"],
        "campaign": True,
    },
    {
        "respondent": {"kind": "individual", "publication_consent": "publish"},
        "text": "Spam spam spam.",
        "stance": "Agree",
        "themes": [],
        "excluded": "Spam: not a response to the consultation",
    },
]
THEMES = [
    ThemeIn(label="Better services", description="Sharing would improve public services."),
    ThemeIn(label="Safeguards needed", description="Support on condition of safeguards."),
    ThemeIn(label="Privacy concerns", description="Worries about privacy and misuse."),
]


@dataclass
class World:
    client: httpx.AsyncClient
    session: AsyncSession
    admin: str
    analyst: str
    analyst_user: User
    detail: dict[str, Any]
    codeframe: dict[str, Any] = field(default_factory=dict)
    answer_ids: list[uuid.UUID] = field(default_factory=list)
    response_ids: list[uuid.UUID] = field(default_factory=list)
    campaign_label: str = "Stop the data grab"

    @property
    def proposal_id(self) -> uuid.UUID:
        return uuid.UUID(self.detail["proposals"][0]["id"])

    async def publish_consultation(self) -> None:
        for action in ("close", "publish"):
            done = await self.client.post(
                f"/api/v1/consultations/{self.detail['slug']}/{action}", headers=bearer(self.admin)
            )
            assert done.status_code == 200, done.text


async def make_world(
    client: httpx.AsyncClient, users: Users, session: AsyncSession, slug: str = SLUG
) -> World:
    """A consultation with the responses in PEOPLE, a published codeframe for proposal 1,
    human codings and stances, one campaign and one excluded response."""
    admin = await users.token(Role.admin)
    detail = await create_consultation(client, admin, slug)
    analyst = await users.token(Role.analyst, member_of=[slug])
    analyst_user = await users_service.user_for_token(session, token=analyst)
    assert analyst_user is not None
    world = World(client, session, admin, analyst, analyst_user, detail)
    q1, q2 = detail["proposals"][0]["questions"]
    q3, q4 = detail["proposals"][1]["questions"]
    for i, person in enumerate(PEOPLE):
        answers = [
            {"question_id": q1["id"], "text": person["text"]},
            {"question_id": q2["id"], "options": [person["stance"]]},
        ]
        if i % 2 == 0:
            answers.append({"question_id": q3["id"], "text": f"Fuel comment {i}"})
            answers.append({"question_id": q4["id"], "options": ["Consent", "Oversight"]})
        sent = await client.post(
            f"/api/v1/consultations/{slug}/responses",
            json={"respondent": person["respondent"], "answers": answers},
        )
        assert sent.status_code == 201, sent.text
        response_id = await session.scalar(
            select(Response.id).where(Response.receipt_code == sent.json()["receipt_code"])
        )
        assert response_id is not None
        world.response_ids.append(response_id)
        answer_id = await session.scalar(
            select(Answer.id).where(
                Answer.response_id == response_id, Answer.question_id == uuid.UUID(q1["id"])
            )
        )
        assert answer_id is not None
        world.answer_ids.append(answer_id)

    created = await codeframes_service.create_codeframe(
        session,
        proposal_id=world.proposal_id,
        user=analyst_user,
        data=CodeframeCreate(themes=THEMES),
    )
    published = await codeframes_service.publish(
        session, codeframe_id=created.id, user=analyst_user
    )
    world.codeframe = published.model_dump(mode="json")
    stances = {"Agree": "support", "Disagree": "oppose"}
    for person, answer_id in zip(PEOPLE, world.answer_ids, strict=True):
        await coding_service.set_codes(
            session,
            answer_id=answer_id,
            user=analyst_user,
            data=CodesIn(
                codeframe_id=published.id,
                themes=person["themes"],
                stance=stances[person["stance"]],  # type: ignore[arg-type]
            ),
        )
    campaign = Campaign(
        consultation_id=uuid.UUID(detail["id"]),
        template_text="Stop the data grab. Protect our privacy now.",
        member_count=2,
        label=world.campaign_label,
    )
    session.add(campaign)
    await session.flush()
    members = [r for p, r in zip(PEOPLE, world.response_ids, strict=True) if p.get("campaign")]
    await session.execute(
        update(Response).where(Response.id.in_(members)).values(campaign_id=campaign.id)
    )
    await session.commit()
    for person, response_id in zip(PEOPLE, world.response_ids, strict=True):
        if person.get("excluded"):
            excluded = await client.post(
                f"/api/v1/responses/{response_id}/exclude",
                json={"reason": person["excluded"]},
                headers=bearer(analyst),
            )
            assert excluded.status_code == 200, excluded.text
    await session.commit()
    return world


@pytest.fixture
async def world(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> World:
    return await make_world(client, users, session)


def url(fmt: str, slug: str = SLUG) -> str:
    return f"/api/v1/consultations/{slug}/exports/{fmt}"


def read_csv(body: str) -> list[dict[str, str]]:
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


# --------------------------------------------------------------------------------------


def test_neutralise_follows_owasp() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert exports_service.neutralise(start + "1+1") == "'" + start + "1+1"
    assert exports_service.neutralise("fine = ok") == "fine = ok"
    assert exports_service.neutralise(5) == 5 and exports_service.neutralise(None) is None


async def test_csv_has_codes_stance_campaign_and_neutralised_formula(world: World) -> None:
    response = await world.client.get(url("csv"), headers=bearer(world.analyst))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{SLUG}.csv"' in response.headers["content-disposition"]
    rows = read_csv(response.text)
    assert tuple(rows[0]) == exports_service.ANALYST_COLUMNS
    q1 = [r for r in rows if r["question_number"] == "1"]
    assert len(q1) == len(PEOPLE)
    by_id = {r["answer_id"]: r for r in q1}
    for person, answer_id in zip(PEOPLE, world.answer_ids, strict=True):
        row = by_id[str(answer_id)]
        assert row["theme_codes"] == "; ".join(person["themes"])
        assert row["coded"] == "true" and row["codeframe_version"] == "1"
        assert row["stance"] == {"Agree": "support", "Disagree": "oppose"}[person["stance"]]
        assert row["campaign"] == (world.campaign_label if person.get("campaign") else "")
        assert row["status"] == ("excluded" if person.get("excluded") else "received")
    formula_row = by_id[str(world.answer_ids[0])]
    assert formula_row["answer_text"] == "'" + FORMULA  # neutralised, not a formula
    assert by_id[str(world.answer_ids[2])]["answer_text"].startswith("'-Privacy")
    labels = by_id[str(world.answer_ids[1])]["theme_labels"]
    assert labels == "Better services; Safeguards needed"
    # Closed questions carry their options; proposal 2 has no codeframe: not coded.
    assert {r["options"] for r in rows if r["question_number"] == "2"} == {"Agree", "Disagree"}
    q4 = [r for r in rows if r["question_number"] == "4"]
    assert q4 and all(r["options"] == "Consent; Oversight" and r["coded"] == "false" for r in q4)
    # Never names or emails; redacted text only.
    assert "alice@example.org" not in response.text and "Alice Jones" not in response.text
    assert "office@acme.example" not in response.text
    assert "name" not in rows[0] and "email" not in rows[0]


async def test_exports_use_redacted_text(world: World, session: AsyncSession) -> None:
    # An answer whose raw text differs from its redacted text.
    answer_id = world.answer_ids[1]
    await session.execute(
        text(
            "UPDATE answers SET text = text || ' Call Jo on 07700 900123.', "
            "redacted_text = redacted_text || ' Call [NAME] on [PHONE].' WHERE id = :id"
        ),
        {"id": answer_id},
    )
    await session.commit()
    for fmt in ("csv", "jsonl"):
        body = (await world.client.get(url(fmt), headers=bearer(world.analyst))).text
        assert "07700 900123" not in body and "[PHONE]" in body
    world.session = session
    await world.publish_consultation()
    open_data = (await world.client.get(url("open-data"))).text
    assert "07700 900123" not in open_data and "[PHONE]" in open_data


async def test_proposal_filter_and_unknown_proposal(world: World) -> None:
    only = await world.client.get(
        url("jsonl"), params={"proposal": str(world.proposal_id)}, headers=bearer(world.analyst)
    )
    assert only.status_code == 200
    records = [json.loads(line) for line in only.text.splitlines()]
    assert {r["proposal_number"] for r in records} == {1}
    assert len(records) == 2 * len(PEOPLE)
    missing = await world.client.get(
        url("csv"), params={"proposal": str(uuid.uuid4())}, headers=bearer(world.analyst)
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_jsonl_records_are_typed(world: World) -> None:
    response = await world.client.get(url("jsonl"), headers=bearer(world.analyst))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    records = [json.loads(line) for line in response.text.splitlines()]
    first = next(r for r in records if r["answer_id"] == str(world.answer_ids[1]))
    assert first["theme_codes"] == ["P1-01", "P1-02"] and first["coded"] is True
    assert first["respondent_kind"] == "organisation"
    assert first["organisation_name"] == "Acme Data Trust"
    assert first["answer_text"].startswith("We support")  # JSON is not a spreadsheet
    formula = next(r for r in records if r["answer_id"] == str(world.answer_ids[0]))
    assert formula["answer_text"] == FORMULA


async def test_xlsx_cells_are_not_formulas(world: World) -> None:
    response = await world.client.get(url("xlsx"), headers=bearer(world.analyst))
    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == exports_service.ANALYST_COLUMNS
    header = list(rows[0])
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert len(records) == len(PEOPLE) * 2 + 4 * 2  # 7 x (q1, q2) + 4 x (q3, q4)
    formula = next(r for r in records if r["answer_id"] == str(world.answer_ids[0]))
    assert formula["answer_text"] == "'" + FORMULA
    # No cell anywhere is a formula.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    acme = next(r for r in records if r["answer_id"] == str(world.answer_ids[1]))
    assert acme["theme_codes"] == "P1-01; P1-02" and acme["stance"] == "support"


async def test_themefinder_layout_round_trips_through_the_import(
    world: World, session: AsyncSession
) -> None:
    response = await world.client.get(url("themefinder"), headers=bearer(world.analyst))
    assert response.status_code == 200, response.text
    data = response.content
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    part1 = f"{SLUG}/inputs/question_part_1"
    assert {f"{part1}/question.json", f"{part1}/responses.jsonl"} <= names
    assert f"{SLUG}/inputs/respondents.jsonl" in names
    question = json.loads(archive.read(f"{part1}/question.json"))
    assert question["question_number"] == 1
    assert question["question_text"] == "What do you think of this proposal?"
    responses = [json.loads(x) for x in archive.read(f"{part1}/responses.jsonl").splitlines()]
    # The excluded response is not in the layout (received responses only).
    assert len(responses) == len(PEOPLE) - 1
    outputs = [n for n in names if "/outputs/mapping/" in n]
    date = outputs[0].split("/")[3]
    mdir = f"{SLUG}/outputs/mapping/{date}/question_part_1"
    themes = json.loads(archive.read(f"{mdir}/themes.json"))
    assert [t["topic_id"] for t in themes] == ["A", "B", "C"]
    assert [t["topic_label"] for t in themes] == [t.label for t in THEMES]
    letters = {t["consult_code"]: t["topic_id"] for t in themes}
    mapping = {
        m["response_id"]: m["labels"]
        for m in map(json.loads, archive.read(f"{mdir}/mapping.jsonl").splitlines())
    }
    sentiment = {
        s["response_id"]: s["position"]
        for s in map(json.loads, archive.read(f"{mdir}/sentiment.jsonl").splitlines())
    }
    for person, response_id in zip(PEOPLE, world.response_ids, strict=True):
        if person.get("excluded"):
            assert str(response_id) not in mapping
            continue
        assert mapping[str(response_id)] == [letters[c] for c in person["themes"]]
        expected = "AGREE" if person["stance"] == "Agree" else "DISAGREE"
        assert sentiment[str(response_id)] == expected
    # No codeframe for proposal 2: its parts have inputs but no outputs.
    assert not any("question_part_3/" in n for n in outputs)
    assert f"{SLUG}/inputs/question_part_3/responses.jsonl" in names
    respondents = [
        json.loads(x) for x in archive.read(f"{SLUG}/inputs/respondents.jsonl").splitlines()
    ]
    assert all("email" not in json.dumps(r) and "Alice" not in json.dumps(r) for r in respondents)

    # Round trip: the zip imports into a consultation with the same questions.
    await create_consultation(world.client, world.admin, "exports-copy")
    result = await imports_service.import_responses(
        session,
        slug="exports-copy",
        user=None,
        filename="exports.zip",
        data=data,
        max_answer_chars=20_000,
    )
    assert result.format == "themefinder"
    assert result.responses == len(PEOPLE) - 1
    imported = dict(
        (
            await session.execute(
                text(
                    "SELECT r.external_id, a.text FROM answers a "
                    "JOIN responses r ON r.id = a.response_id "
                    "JOIN questions q ON q.id = a.question_id "
                    "JOIN consultations c ON c.id = r.consultation_id "
                    "WHERE c.slug = 'exports-copy' AND q.number = '1'"
                )
            )
        ).all()
    )
    assert imported == {r["response_id"]: r["response"] for r in responses}
    stance_options = (
        await session.execute(
            text(
                "SELECT r.external_id, a.options FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                "JOIN questions q ON q.id = a.question_id "
                "JOIN consultations c ON c.id = r.consultation_id "
                "WHERE c.slug = 'exports-copy' AND q.number = '2'"
            )
        )
    ).all()
    people = {str(r): p for p, r in zip(PEOPLE, world.response_ids, strict=True)}
    assert {rid: opts for rid, opts in stance_options} == {
        rid: [p["stance"]] for rid, p in people.items() if not p.get("excluded")
    }


async def test_open_data_rules(world: World) -> None:
    # Before publication: only the consultation's analysts and admins; others 404.
    assert (await world.client.get(url("open-data"))).status_code == 404
    analyst_view = await world.client.get(url("open-data"), headers=bearer(world.analyst))
    assert analyst_view.status_code == 200
    await world.publish_consultation()
    response = await world.client.get(url("open-data"))
    assert response.status_code == 200, response.text
    assert f'filename="{SLUG}-open-data.csv"' in response.headers["content-disposition"]
    body = response.text
    rows = read_csv(body)
    assert tuple(rows[0]) == exports_service.OPEN_DATA_COLUMNS
    # No personal data, no ids that link back to responses, answers or receipts.
    for secret in ("alice@example.org", "Alice Jones", "bob@example.org", "Bob Private"):
        assert secret not in body
    for rid in world.response_ids:
        assert str(rid) not in body
    for aid in world.answer_ids:
        assert str(aid) not in body
    q1 = [r for r in rows if r["question_number"] == "1"]
    # Excluded responses are not published; the others are numbered 1..n.
    assert len(q1) == len(PEOPLE) - 1
    assert sorted(int(r["response_number"]) for r in q1) == list(range(1, len(PEOPLE)))
    assert "Spam spam" not in body
    # Consent: the text of 'do not publish' is withheld; its codes and stance still count.
    withheld = [r for r in q1 if r["text_withheld"] == "true"]
    assert len(withheld) == 1 and withheld[0]["answer_text"] == ""
    assert withheld[0]["theme_codes"] == "P1-03" and withheld[0]["stance"] == "oppose"
    assert "frightens me" not in body
    # Organisations: named only with consent to publish by name.
    names = {r["organisation_name"] for r in rows}
    assert "Acme Data Trust" in names and "Quiet Foundation" not in body
    quiet = next(r for r in q1 if "Privacy comes first" in r["answer_text"])
    assert quiet["organisation_name"] == "" and quiet["respondent_kind"] == "organisation"
    assert quiet["answer_text"].startswith("'-")  # neutralised
    # One response number per response across its answers.
    acme = next(r for r in q1 if r["organisation_name"] == "Acme Data Trust")
    acme_rows = [r for r in rows if r["response_number"] == acme["response_number"]]
    assert {r["question_number"] for r in acme_rows} == {"1", "2"}


async def test_open_data_refuses_reviewers_and_outsiders_before_publication(
    world: World, users: Users
) -> None:
    reviewer = await users.token(Role.reviewer, member_of=[SLUG])
    outsider = await users.token(Role.analyst)
    for token in (reviewer, outsider):
        response = await world.client.get(url("open-data"), headers=bearer(token))
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    admin = await world.client.get(url("open-data"), headers=bearer(world.admin))
    assert admin.status_code == 200


async def test_analyst_exports_refuse_others(world: World, users: Users) -> None:
    reviewer = await users.token(Role.reviewer, member_of=[SLUG])
    outsider = await users.token(Role.analyst)
    for fmt in exports_service.ANALYST_FORMATS:
        assert (await world.client.get(url(fmt))).status_code == 401
        for token in (reviewer, outsider):
            response = await world.client.get(url(fmt), headers=bearer(token))
            assert response.status_code == 403 and response.json()["code"] == "forbidden"
    missing = await world.client.get(url("csv", "nope"), headers=bearer(world.admin))
    assert missing.status_code == 404


def test_export_routes_are_classified() -> None:
    for fmt in exports_service.ANALYST_FORMATS:
        assert ROUTE_ACCESS[("GET", f"/api/v1/consultations/{{slug}}/exports/{fmt}")] == (
            ANALYST_MEMBER
        )


async def test_export_to_path_writes_folder_and_files(
    world: World, session: AsyncSession, tmp_path: Any
) -> None:
    target = await exports_service.authorise(
        session, slug=SLUG, fmt="themefinder", user=None, operator=True
    )
    summary = await exports_service.export_to_path(session, target, tmp_path / "tf")
    assert "question_part_1: 6 answers" in summary
    assert (tmp_path / "tf/inputs/question_part_1/responses.jsonl").exists()
    # The folder itself re-reads through the import's reader.
    from app.imports.readers import read_path

    table = read_path(tmp_path / "tf")
    assert table.format == "themefinder" and len(table.rows) == len(PEOPLE) - 1
    for fmt in ("csv", "xlsx", "jsonl", "open-data"):
        target = await exports_service.authorise(
            session, slug=SLUG, fmt=fmt, user=None, operator=True
        )
        out = tmp_path / f"out.{fmt}"
        await exports_service.export_to_path(session, target, out)
        assert out.stat().st_size > 100


def test_cli_export_unknown_consultation(database_url: str, tmp_path: Any) -> None:
    env = dict(os.environ, DATABASE_URL=database_url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "export",
            "nope",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "x.csv"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "nope" in done.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "export",
            "nope",
            "--format",
            "pdf",
            "--out",
            str(tmp_path / "x.pdf"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0


async def test_cli_export_and_report_write_files(database_url: str, tmp_path: Any) -> None:
    """`consult export` and `consult report` on committed data (deleted afterwards)."""
    import asyncio

    from app.consultations import service as consultations_service
    from app.consultations.schemas import ConsultationCreate
    from app.db import make_engine, make_sessionmaker
    from tests.factories import consultation_body

    slug = f"cli-export-{uuid.uuid4().hex[:10]}"
    engine = make_engine(database_url, pool_size=1)
    env = dict(os.environ, DATABASE_URL=database_url)

    def consult(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    try:
        async with make_sessionmaker(engine)() as session:
            await consultations_service.create_consultation(
                session, data=ConsultationCreate.model_validate(consultation_body(slug))
            )
            await imports_service.import_responses(
                session,
                slug=slug,
                user=None,
                filename="responses.csv",
                data=(
                    b"response_id,respondent_kind,publication_consent,1,2\n"
                    b'r1,individual,publish,"=SUM(A1:A9) is my view",Agree\n'
                    b"r2,individual,do_not_publish,Keep this private please,Disagree\n"
                ),
                max_answer_chars=20_000,
            )
            await session.commit()
        out = tmp_path / "answers.csv"
        done = await asyncio.to_thread(
            consult, "export", slug, "--format", "csv", "--out", str(out)
        )
        assert done.returncode == 0, done.stderr
        rows = read_csv(out.read_text(encoding="utf-8"))
        assert {r["external_id"] for r in rows} == {"r1", "r2"}
        assert "'=SUM(A1:A9) is my view" in {r["answer_text"] for r in rows}
        folder = tmp_path / "tf"
        done = await asyncio.to_thread(
            consult, "export", slug, "--format", "themefinder", "--out", str(folder)
        )
        assert done.returncode == 0, done.stderr
        assert (folder / "inputs/question_part_1/responses.jsonl").read_text().count("\n") == 2
        report = tmp_path / "report.html"
        done = await asyncio.to_thread(consult, "report", slug, "--out", str(report))
        assert done.returncode == 0, done.stderr
        html = report.read_text(encoding="utf-8")
        assert "Preview: this report is not published" in html
        assert "Counts are not votes" in html and "<script" not in html
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM consultations WHERE slug = :slug"), {"slug": slug})
        await engine.dispose()


async def test_withdrawn_responses_keep_their_rows_without_text(
    world: World, session: AsyncSession
) -> None:
    await session.execute(
        text("UPDATE responses SET status = 'withdrawn', status_changed_at = now() WHERE id = :id"),
        {"id": world.response_ids[1]},
    )
    await session.commit()
    body = (await world.client.get(url("jsonl"), headers=bearer(world.analyst))).text
    records = [json.loads(line) for line in body.splitlines()]
    mine = [r for r in records if r["response_id"] == str(world.response_ids[1])]
    assert mine and all(r["status"] == "withdrawn" for r in mine)
    assert all(r["answer_text"] is None and r["options"] == [] for r in mine)
    assert "We support sharing" not in body
    assert {r["question_text"] for r in records} >= {"What do you think of this proposal?"}
    layout = await world.client.get(url("themefinder"), headers=bearer(world.analyst))
    assert b"We support sharing" not in zipfile.ZipFile(io.BytesIO(layout.content)).read(
        f"{SLUG}/inputs/question_part_1/responses.jsonl"
    )


async def test_analyse_home_links_to_the_exports_and_report(world: World) -> None:
    home = await world.client.get(
        "/analyse/", headers=bearer(world.analyst) | {"accept": "text/html"}
    )
    assert home.status_code == 200
    links = re.findall(r'href="([^"]+)"', home.text)
    wanted = [f"/c/{SLUG}/report"] + [url(fmt) for fmt in exports_service.FORMATS]
    assert all(link in links for link in wanted)
    for link in wanted:
        followed = await world.client.get(link, headers=bearer(world.analyst))
        assert followed.status_code == 200, link
