"""File imports through the API and the service, on the real database: every format, the
ThemeFinder layout, mapping files, and every way an import is refused (nothing stored)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.enums import Role
from app.errors import ImportFailed
from app.imports import service
from app.imports.models import Import
from app.responses.models import Answer, Respondent, Response
from tests.conftest import Users, bearer
from tests.factories import create_consultation

SLUG = "data-sharing"
URL = f"/api/v1/consultations/{SLUG}/imports"
# Factory consultation: 1 open text; 2 single choice (Agree / Disagree / Neither agree nor
# disagree), required; 3 open text; 4 multi choice (Consent, Oversight, Security, Transparency).
HEADER = [
    "response_id",
    "respondent_kind",
    "organisation_name",
    "name",
    "publication_consent",
    "Q1",
    "Question 2",
    "3",
    "q4",
]
ROWS = [
    [
        "r-1",
        "individual",
        "",
        "Jane Smith",
        "publish",
        "Jane Smith here: write to jane.smith@example.org about it.",
        "Agree",
        "",
        "Consent;Oversight",
    ],
    [
        "r-2",
        "organisation",
        "Privacy Trust",
        "",
        "publish_anonymously",
        "We oppose sharing without consent.",
        "Disagree",
        "Needs oversight.",
        "Security",
    ],
    ["r-3", "", "", "", "", "", "neither agree nor disagree", "No comment", ""],
]


@pytest.fixture
async def admin(users: Users) -> str:
    return await users.token(Role.admin)


@pytest.fixture
async def consultation(client: httpx.AsyncClient, admin: str) -> dict[str, Any]:
    return await create_consultation(client, admin, SLUG)


@pytest.fixture
async def analyst(users: Users, consultation: dict[str, Any]) -> str:
    return await users.token(Role.analyst, member_of=[SLUG])


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([v if v != "" else None for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    token: str | None,
    filename: str,
    content: bytes,
    *,
    mapping: dict[str, Any] | None = None,
    file_format: str | None = None,
    slug: str = SLUG,
) -> httpx.Response:
    data: dict[str, str] = {}
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    if file_format is not None:
        data["format"] = file_format
    return await client.post(
        f"/api/v1/consultations/{slug}/imports",
        files={"file": (filename, content)},
        data=data,
        headers=bearer(token) if token else {},
    )


async def counts(session: AsyncSession) -> tuple[int, int, int, int]:
    tables = (Respondent, Response, Answer, Import)
    return tuple(  # type: ignore[return-value]
        [int(await session.scalar(select(func.count()).select_from(t)) or 0) for t in tables]
    )


async def stored(
    session: AsyncSession,
) -> dict[str, tuple[Response, Respondent, dict[str, Answer]]]:
    """external_id -> (response, respondent, {question number: answer})."""
    from app.consultations.models import Question

    result: dict[str, tuple[Response, Respondent, dict[str, Answer]]] = {}
    rows = await session.execute(
        select(Response, Respondent).join(Respondent, Respondent.id == Response.respondent_id)
    )
    for response, respondent in rows:
        answers = await session.execute(
            select(Question.number, Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.response_id == response.id)
        )
        result[response.external_id or str(response.id)] = (
            response,
            respondent,
            {number: answer for number, answer in answers},
        )
    return result


def assert_rejected(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_failed"
    assert "nothing was stored" in body["message"]
    return list(body["fields"])


# --------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------


async def test_csv_import_stores_every_row_with_redacted_text(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    created = await upload(client, analyst, "responses.csv", csv_bytes(ROWS))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["format"] == "csv" and body["filename"] == "responses.csv"
    assert (body["responses"], body["answers"]) == (3, 9)
    assert await counts(session) == (3, 3, 9, 1)

    rows = await stored(session)
    assert set(rows) == {"r-1", "r-2", "r-3"}
    response, respondent, answers = rows["r-1"]
    assert response.channel == "import" and response.status == "received"
    assert str(response.import_id) == body["import_id"]
    assert len(response.receipt_code) == 14
    assert respondent.name == "Jane Smith" and respondent.publication_consent == "publish"
    assert answers["1"].text == ROWS[0][5]  # raw text kept
    redacted = answers["1"].redacted_text or ""
    assert "jane.smith@example.org" not in redacted and "[EMAIL]" in redacted
    assert "Jane Smith" not in redacted and "[NAME]" in redacted
    assert answers["2"].options == ["Agree"] and answers["2"].text is None
    assert answers["4"].options == ["Consent", "Oversight"]

    _, organisation, answers = rows["r-2"]
    assert organisation.kind == "organisation" and organisation.organisation_name == "Privacy Trust"
    assert answers["3"].redacted_text == "Needs oversight."

    _, defaults, answers = rows["r-3"]
    # Blank kind and consent: individual, and the safest consent.
    assert defaults.kind == "individual" and defaults.publication_consent == "do_not_publish"
    assert answers["2"].options == ["Neither agree nor disagree"]  # option matched ignoring case
    assert set(answers) == {"2", "3"}

    record = await session.scalar(select(Import))
    assert record is not None
    assert (record.filename, record.file_format, record.response_count, record.answer_count) == (
        "responses.csv",
        "csv",
        3,
        9,
    )
    assert len(record.content_sha256) == 64 and record.completed_at is not None


async def test_uploads_larger_than_the_json_body_limit_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    long_answer = "Sharing data needs clear rules and independent oversight. " * 40
    rows = [
        [f"big-{i}", "individual", "", "", "publish", long_answer, "Agree", "", ""]
        for i in range(800)
    ]
    content = csv_bytes(rows)
    assert len(content) > get_settings().max_body_bytes  # a JSON body this size would get 413
    created = await upload(client, analyst, "big.csv", content)
    assert created.status_code == 201, created.text
    assert created.json()["responses"] == 800


async def test_uploads_over_the_upload_limit_get_413(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The middleware read its limit at start-up; a small app instance shows the refusal.
    from app.main import create_app

    monkeypatch.setattr(get_settings(), "max_upload_bytes", 1000)
    small = create_app()
    small.state.sessionmaker = client._transport.app.state.sessionmaker  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as limited:
        refused = await upload(limited, analyst, "r.csv", csv_bytes(ROWS * 20))
    assert refused.status_code == 413 and refused.json()["code"] == "payload_too_large"
    assert await counts(session) == (0, 0, 0, 0)


async def test_xlsx_import(
    client: httpx.AsyncClient, session: AsyncSession, admin: str, consultation: dict[str, Any]
) -> None:
    rows: list[list[Any]] = [list(r) for r in ROWS]
    rows[0][0] = 1001  # numeric ids arrive as numbers from a spreadsheet
    created = await upload(client, admin, "responses.xlsx", xlsx_bytes(rows))
    assert created.status_code == 201, created.text
    assert created.json()["format"] == "xlsx"
    assert (created.json()["responses"], created.json()["answers"]) == (3, 9)
    stored_rows = await stored(session)
    assert set(stored_rows) == {"1001", "r-2", "r-3"}
    assert "[EMAIL]" in (stored_rows["1001"][2]["1"].redacted_text or "")


async def test_jsonl_import_with_lists_and_attributes(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    lines = [
        {
            "id": "j1",
            "kind": "individual",
            "publication_consent": "publish",
            "region": "Wales",
            "1": "Call me on 07700 900123.",
            "2": "Agree",
            "4": ["Security", "Transparency"],
            "attributes": {"age": "35-44"},
            "submitted_at": "2016-04-29T17:05:00Z",
            "channel": "post",
        },
        {"id": "j2", "2": "Disagree"},
    ]
    content = "\n".join(json.dumps(line) for line in lines).encode() + b"\n\n"
    created = await upload(client, analyst, "answers.jsonl", content)
    assert created.status_code == 201, created.text
    assert (created.json()["responses"], created.json()["answers"]) == (2, 4)
    rows = await stored(session)
    response, respondent, answers = rows["j1"]
    assert answers["4"].options == ["Security", "Transparency"]
    assert "[PHONE]" in (answers["1"].redacted_text or "")
    assert respondent.attributes == {"age": "35-44"} and respondent.region == "Wales"
    assert respondent.channel == "post" and response.channel == "post"
    assert response.submitted_at.isoformat().startswith("2016-04-29T17:05:00")


def write_themefinder(
    root: Path, parts: dict[int, list[tuple[Any, str]]], demographics: dict[Any, dict[str, str]]
) -> Path:
    """A tiny folder in the Consult/ThemeFinder evaluation layout (as themefinder_gambling_xs)."""
    inputs = root / "inputs"
    for number, responses in parts.items():
        part = inputs / f"question_part_{number}"
        part.mkdir(parents=True)
        (part / "question.json").write_text(
            json.dumps(
                {"question_number": number, "question_text": f"Question {number}?"}, indent=4
            )
        )
        (part / "responses.jsonl").write_text(
            "".join(
                json.dumps({"response_id": rid, "response": text}) + "\n" for rid, text in responses
            )
        )
    (inputs / "respondents.jsonl").write_text(
        "".join(
            json.dumps({"response_id": rid, "demographic_data": d}) + "\n"
            for rid, d in demographics.items()
        )
    )
    return root


THEMEFINDER_BODY: dict[str, Any] = {
    "proposals": [
        {
            "title": "Gambling adverts",
            "summary": "Advertising during sport.",
            "questions": [
                {"number": "1", "text": "Should adverts be banned?", "kind": "open_text"},
                {"number": "2", "text": "What else could be done?", "kind": "open_text"},
            ],
        }
    ]
}
THEMEFINDER_PARTS = {
    1: [
        (1001, "Yes, ban them. My son started gambling."),
        (1002, "No, adults can choose."),
        (1003, "Ban them. Email me at a.person@example.com"),
    ],
    2: [(1001, "Education campaigns."), (1003, "Fund treatment services.")],
}
THEMEFINDER_DEMOGRAPHICS = {
    1001: {"Do you live in:": "England"},
    1002: {"Do you live in:": "Scotland"},
    1003: {"Do you live in:": "Wales"},
}


async def test_themefinder_folder_through_the_service(
    client: httpx.AsyncClient, session: AsyncSession, admin: str, tmp_path: Path
) -> None:
    await create_consultation(client, admin, "gambling", **THEMEFINDER_BODY)
    folder = write_themefinder(
        tmp_path / "gambling_xs", THEMEFINDER_PARTS, THEMEFINDER_DEMOGRAPHICS
    )
    seen: list[tuple[str, int, int]] = []
    result = await service.import_responses(
        session,
        slug="gambling",
        user=None,
        filename=folder.name,
        path=folder,
        max_answer_chars=20_000,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert (result.format, result.responses, result.answers) == ("themefinder", 3, 5)
    assert ("parsed", 3, 3) in seen and ("written", 3, 3) in seen
    rows = await stored(session)
    assert set(rows) == {"1001", "1002", "1003"}
    _, respondent, answers = rows["1003"]
    assert respondent.attributes == {"Do you live in:": "Wales"}
    assert answers["1"].text == "Ban them. Email me at a.person@example.com"
    assert "[EMAIL]" in (answers["1"].redacted_text or "")
    assert answers["2"].text == "Fund treatment services."
    assert set(rows["1002"][2]) == {"1"}


async def test_themefinder_zip_through_the_api_with_a_mapping(
    client: httpx.AsyncClient, session: AsyncSession, admin: str, tmp_path: Path
) -> None:
    body = {
        "proposals": [
            {
                **THEMEFINDER_BODY["proposals"][0],
                "questions": [
                    {"number": "7", "text": "Should adverts be banned?", "kind": "open_text"},
                    {"number": "8", "text": "What else could be done?", "kind": "open_text"},
                ],
            }
        ]
    }
    await create_consultation(client, admin, "gambling", **body)
    folder = write_themefinder(
        tmp_path / "gambling_xs", THEMEFINDER_PARTS, THEMEFINDER_DEMOGRAPHICS
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*"):
            if path.is_file():
                zipped.write(path, path.relative_to(tmp_path).as_posix())
    mapping = {"question_part_1": "7", "question_part_2": "8"}
    created = await upload(
        client, admin, "gambling.zip", archive.getvalue(), mapping=mapping, slug="gambling"
    )
    assert created.status_code == 201, created.text
    assert created.json()["format"] == "themefinder"
    assert (created.json()["responses"], created.json()["answers"]) == (3, 5)
    assert set((await stored(session))["1001"][2]) == {"7", "8"}


async def test_mapping_file_renames_ignores_and_keeps_attributes(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    header = ["Ref", "Your views on tailored services", "Agree?", "Internal note", "Age band"]
    rows = [["A1", "Good idea.", "Agree", "checked by JS", "18-24"]]
    mapping = {
        "Ref": "response_id",
        "Your views on tailored services": "1",
        "Agree?": 2,
        "Internal note": None,
        "Age band": "attribute",
    }
    created = await upload(client, analyst, "export.csv", csv_bytes(rows, header), mapping=mapping)
    assert created.status_code == 201, created.text
    _, respondent, answers = (await stored(session))["A1"]
    assert answers["1"].text == "Good idea." and answers["2"].options == ["Agree"]
    assert respondent.attributes == {"Age band": "18-24"}


async def test_question_text_as_header_and_explicit_format(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    header = ["What do you think of this proposal?", "Do you agree with this proposal?"]
    created = await upload(
        client, analyst, "export.txt", csv_bytes([["Fine.", "Agree"]], header), file_format="csv"
    )
    assert created.status_code == 201, created.text
    assert await counts(session) == (1, 1, 2, 1)


async def test_cli_runner_imports_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_import wires the service, a progress bar and one committed transaction."""
    from rich.console import Console

    from app.imports import cli

    calls: dict[str, Any] = {}

    def fake_run_in_session(url: str, work: Any) -> Any:
        calls["url"] = url
        return service.ImportResult(
            import_id=__import__("uuid").uuid4(),
            format="csv",
            filename="f.csv",
            responses=2,
            answers=5,
        )

    monkeypatch.setattr("app.cli.run_in_session", fake_run_in_session)
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes(ROWS))
    summary = cli.run_import(
        "postgresql://x/y", file=path, slug=SLUG, console=Console(file=io.StringIO())
    )
    assert calls["url"] == "postgresql://x/y"
    assert summary.startswith("Imported 2 responses (5 answers) from f.csv (csv)")


# --------------------------------------------------------------------------------------
# Refusals: each names row and column, and nothing is stored
# --------------------------------------------------------------------------------------


async def test_bad_option_names_row_and_column_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    before = await counts(session)
    rows = [list(r) for r in ROWS]
    rows[1][6] = "Maybe"
    fields = assert_rejected(await upload(client, analyst, "responses.csv", csv_bytes(rows)))
    assert fields[0]["loc"] == ["row", 2, "column", "Question 2"]
    assert fields[0]["type"] == "invalid_answer"
    assert "line 3" in fields[0]["message"] and "'Maybe' is not an option" in fields[0]["message"]
    assert await counts(session) == before


async def test_many_problems_are_listed_up_to_the_limit(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    rows = [[f"x{i}", "", "", "", "", "text", "Perhaps", "", ""] for i in range(30)]
    response = await upload(client, analyst, "responses.csv", csv_bytes(rows))
    fields = assert_rejected(response)
    assert len(fields) == service.MAX_PROBLEMS
    assert "30 problems" in response.json()["message"]
    assert [f["loc"][1] for f in fields] == list(range(1, 21))
    assert await counts(session) == (0, 0, 0, 0)


async def test_unknown_column_is_named(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    header = [*HEADER[:-1], "Q44"]
    fields = assert_rejected(
        await upload(client, analyst, "responses.csv", csv_bytes(ROWS, header))
    )
    assert fields[0]["loc"] == ["column", "Q44"] and fields[0]["type"] == "unknown_column"
    assert await counts(session) == (0, 0, 0, 0)


async def test_mapping_naming_a_missing_column_or_question(
    client: httpx.AsyncClient, analyst: str
) -> None:
    fields = assert_rejected(
        await upload(
            client, analyst, "responses.csv", csv_bytes(ROWS), mapping={"Q9": "1", "q4": "99"}
        )
    )
    assert {tuple(f["loc"]) for f in fields} == {("mapping", "Q9"), ("mapping", "q4")}
    bad_json = await client.post(
        URL,
        files={"file": ("r.csv", csv_bytes(ROWS))},
        data={"mapping": "{not json"},
        headers=bearer(analyst),
    )
    assert assert_rejected(bad_json)[0]["loc"] == ["mapping"]


async def test_duplicate_id_in_the_file(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][0] = "r-1"
    fields = assert_rejected(await upload(client, analyst, "responses.csv", csv_bytes(rows)))
    assert fields[0]["loc"] == ["row", 3, "column", "response_id"]
    assert fields[0]["type"] == "duplicate_id" and "row 1" in fields[0]["message"]
    assert await counts(session) == (0, 0, 0, 0)


async def test_ids_already_imported_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    assert (await upload(client, analyst, "responses.csv", csv_bytes(ROWS))).status_code == 201
    before = await counts(session)
    again = [list(ROWS[0]), ["r-new", *ROWS[1][1:]]]
    fields = assert_rejected(await upload(client, analyst, "more.csv", csv_bytes(again)))
    assert fields == [
        {
            "loc": ["row", 1, "column", "response_id"],
            "type": "already_imported",
            "message": fields[0]["message"],
        }
    ]
    assert "r-1" in fields[0]["message"]
    assert await counts(session) == before


async def test_too_long_text(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str, settings: Any
) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][7] = "x" * (settings.max_answer_chars + 1)
    fields = assert_rejected(await upload(client, analyst, "responses.csv", csv_bytes(rows)))
    assert fields[0]["loc"] == ["row", 2, "column", "3"] and fields[0]["type"] == "too_long"
    assert await counts(session) == (0, 0, 0, 0)


async def test_missing_required_answer(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][6] = ""
    fields = assert_rejected(await upload(client, analyst, "responses.csv", csv_bytes(rows)))
    assert (
        fields[0]["loc"] == ["row", 1, "column", "Question 2"] and fields[0]["type"] == "required"
    )
    header = [h for h in HEADER if h != "Question 2"]
    rows = [[c for h, c in zip(HEADER, r, strict=True) if h != "Question 2"] for r in ROWS]
    fields = assert_rejected(
        await upload(client, analyst, "responses.csv", csv_bytes(rows, header))
    )
    assert fields[0]["loc"] == ["question", "2"]
    assert await counts(session) == (0, 0, 0, 0)


async def test_invalid_respondent_values(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][1] = "company"
    rows[1][4] = "yes please"
    rows[2][1] = "organisation"  # without organisation_name
    fields = assert_rejected(await upload(client, analyst, "responses.csv", csv_bytes(rows)))
    assert [(f["loc"], f["type"]) for f in fields] == [
        (["row", 1, "column", "respondent_kind"], "invalid_value"),
        (["row", 2, "column", "publication_consent"], "invalid_value"),
        (["row", 3, "column", "respondent_kind"], "required"),
    ]
    assert await counts(session) == (0, 0, 0, 0)


async def test_xlsx_and_jsonl_problems_name_their_rows(
    client: httpx.AsyncClient, analyst: str
) -> None:
    rows: list[list[Any]] = [list(r) for r in ROWS]
    rows[2][8] = "Consent;Telepathy"
    fields = assert_rejected(await upload(client, analyst, "responses.xlsx", xlsx_bytes(rows)))
    assert fields[0]["loc"] == ["row", 3, "column", "q4"]
    assert "spreadsheet row 4" in fields[0]["message"]
    content = b'{"id": "a", "2": "Agree"}\n\n{"id": "b", "2": "Nope"}\n'
    fields = assert_rejected(await upload(client, analyst, "r.jsonl", content))
    assert fields[0]["loc"] == ["row", 3, "column", "2"]


async def test_unreadable_files(client: httpx.AsyncClient, analyst: str) -> None:
    fields = assert_rejected(await upload(client, analyst, "responses.pdf", b"%PDF"))
    assert fields[0]["type"] == "unknown_format"
    fields = assert_rejected(await upload(client, analyst, "r.csv", b'Q1,Q2\n"unclosed,x\n'))
    assert fields[0]["type"] == "csv_syntax"
    fields = assert_rejected(await upload(client, analyst, "r.xlsx", b"not a workbook"))
    assert fields[0]["type"] == "xlsx"
    fields = assert_rejected(await upload(client, analyst, "r.jsonl", b'{"1": "x"}\n[1]\n'))
    assert fields[0]["loc"] == ["row", 2]
    fields = assert_rejected(await upload(client, analyst, "r.csv", "Q1\n".encode("utf-16")))
    assert fields[0]["type"] == "encoding"


async def test_themefinder_problems_name_the_file_and_line(
    client: httpx.AsyncClient, session: AsyncSession, admin: str, tmp_path: Path
) -> None:
    await create_consultation(client, admin, "gambling", **THEMEFINDER_BODY)
    parts = {1: THEMEFINDER_PARTS[1], 2: [(1001, "ok"), (1003, "x" * 20_001)]}
    folder = write_themefinder(tmp_path / "bad", parts, THEMEFINDER_DEMOGRAPHICS)
    with pytest.raises(ImportFailed) as failed:
        await service.import_responses(
            session,
            slug="gambling",
            user=None,
            filename="bad",
            path=folder,
            max_answer_chars=20_000,
        )
    field = failed.value.fields[0]
    assert field["loc"] == [
        "file",
        "inputs/question_part_2/responses.jsonl",
        "row",
        2,
        "column",
        "response",
    ]
    assert "inputs/question_part_2/responses.jsonl line 2" in field["message"]
    assert await counts(session) == (0, 0, 0, 0)


# --------------------------------------------------------------------------------------
# Who may import
# --------------------------------------------------------------------------------------


async def test_no_token_is_401(client: httpx.AsyncClient, consultation: dict[str, Any]) -> None:
    response = await upload(client, None, "responses.csv", csv_bytes(ROWS))
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


async def test_reviewer_is_403(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, consultation: dict[str, Any]
) -> None:
    reviewer = await users.token(Role.reviewer, member_of=[SLUG])
    response = await upload(client, reviewer, "responses.csv", csv_bytes(ROWS))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert await counts(session) == (0, 0, 0, 0)


async def test_analyst_of_another_consultation_is_403(
    client: httpx.AsyncClient,
    session: AsyncSession,
    users: Users,
    admin: str,
    consultation: dict[str, Any],
) -> None:
    await create_consultation(client, admin, "other")
    outsider = await users.token(Role.analyst, member_of=["other"])
    response = await upload(client, outsider, "responses.csv", csv_bytes(ROWS))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert await counts(session) == (0, 0, 0, 0)


async def test_drafts_accept_imports_from_members_and_hide_from_others(
    client: httpx.AsyncClient, session: AsyncSession, users: Users, admin: str
) -> None:
    await create_consultation(client, admin, "draft-one", open_it=False)
    outsider = await users.token(Role.analyst)
    response = await upload(client, outsider, "responses.csv", csv_bytes(ROWS), slug="draft-one")
    assert response.status_code == 404
    member = await users.token(Role.analyst, member_of=["draft-one"])
    response = await upload(client, member, "responses.csv", csv_bytes(ROWS), slug="draft-one")
    assert response.status_code == 201, response.text
    assert (
        await upload(client, admin, "r.csv", csv_bytes(ROWS), slug="nowhere")
    ).status_code == 404


def test_time_ordered_ids_and_receipt_codes_are_distinct() -> None:
    ids = service.time_ordered_ids(10_000)
    assert len(set(ids)) == 10_000 and ids == sorted(ids)
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids[:100])
    codes = service.receipt_codes(10_000)
    assert len(set(codes)) == 10_000
    from app.security import RECEIPT_ALPHABET

    assert all(len(c) == 14 and set(c.replace("-", "")) <= set(RECEIPT_ALPHABET) for c in codes)


@pytest.mark.parametrize("processes", [False, True], ids=["thread", "process-pool"])
async def test_chunked_redaction_matches_redacting_each_answer(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: str,
    consultation: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    processes: bool,
) -> None:
    """Many COPY chunks and redaction batches, repeated texts, names, in a thread or processes."""
    from analysis.redaction import redact

    monkeypatch.setattr(service, "CHUNK_ROWS", 2)
    monkeypatch.setattr(service, "REDACTION_BATCH", 3)
    if processes:
        monkeypatch.setattr(service, "PROCESS_POOL_MIN_TEXTS", 1)
        monkeypatch.setattr(service, "redaction_workers", lambda: 2)
    names = ["Jane Smith", "", "Ravi Patel", "Jane Smith", "", "Tom Jones", "Ravi Patel"]
    texts = [
        "Jane Smith thinks so; mail jane@example.org",
        "Agreed. Call 07700 900123.",
        "Ravi here. Smith is wrong.",
        "Jane Smith thinks so; mail jane@example.org",
        "Agreed. Call 07700 900123.",
        "Nothing personal here.",
        "Agreed. Call 07700 900123.",
    ]
    rows = [
        [f"c{i}", "", "", name, "", text, "Agree", f"Second answer {i % 3}", ""]
        for i, (name, text) in enumerate(zip(names, texts, strict=True))
    ]
    path = tmp_path / "chunks.csv"
    path.write_bytes(csv_bytes(rows))
    result = await service.import_responses(
        session, slug=SLUG, user=None, filename="chunks.csv", path=path, max_answer_chars=20_000
    )
    assert (result.responses, result.answers) == (7, 21)
    stored_rows = await stored(session)
    for i, (name, text) in enumerate(zip(names, texts, strict=True)):
        answers = stored_rows[f"c{i}"][2]
        expected = redact(text, names=[name] if name else []).text
        assert answers["1"].redacted_text == expected, (i, answers["1"].redacted_text)
        assert answers["3"].redacted_text == f"Second answer {i % 3}"
    assert "[NAME]" in (stored_rows["c0"][2]["1"].redacted_text or "")


async def test_semicolon_csv_with_bom_and_crlf(
    client: httpx.AsyncClient, session: AsyncSession, analyst: str
) -> None:
    content = '\ufeffid;Q1;Q2\r\nx1;Fine, I think;Agree\r\nx2;"Two\r\nlines";Disagree\r\n'
    created = await upload(client, analyst, "excel.csv", content.encode())
    assert created.status_code == 201, created.text
    rows = await stored(session)
    assert rows["x1"][2]["1"].text == "Fine, I think"
    assert rows["x2"][2]["1"].text == "Two\r\nlines"


def test_openapi_operation_ids_are_unique(app_instance: Any) -> None:
    """The import route is registered once (app.main): the OpenAPI document builds without a
    duplicate operation id (FastAPI warns and clients generated from it break)."""
    import warnings
    from collections import Counter

    app_instance.openapi_schema = None  # built afresh from the routes as they are now
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document = app_instance.openapi()
    ids = Counter(
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    )
    assert [i for i, n in ids.items() if n > 1] == []
    assert ids["import_file_api_v1_consultations__slug__imports_post"] == 1
