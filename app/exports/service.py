"""Exports of a consultation's answers: CSV, XLSX, JSONL, the Consult/ThemeFinder layout, and
the open-data file for the public.

Every export reads the **redacted** text of answers (never `answers.text`), and none carries a
respondent's name, email or contact details.

* **Analyst exports** (`csv`, `xlsx`, `jsonl`; admins and analysts of the consultation): one
  row per answer with the respondent's kind, organisation, region and consent, the response's
  status and campaign, and the answer's current codes in the proposal's published codeframe
  version, plus the response's current stance on the proposal. Withdrawn and excluded
  responses are included with their status so that nothing disappears silently; a withdrawn
  response's rows carry no text and no chosen options (the respondent took them back).
* **ThemeFinder layout** (`themefinder`; a zip, or a folder from the CLI):
  ``inputs/question_part_N/{question.json,responses.jsonl}``, ``inputs/respondents.jsonl``
  and ``outputs/mapping/<date>/question_part_N/{themes.json,mapping.jsonl,sentiment.jsonl}``
  for the open-text questions of proposals with a published codeframe. Only responses with
  status ``received`` (the ones analysed) are written. It re-imports through
  ``consult import`` (question_part_N answers question number N).
* **Open data** (`open-data`, CSV; anyone once the consultation is published, before that
  only its admins and analysts): received responses only; per answer the response's number
  in a keyed random order (not linkable to ids, receipt codes or submission order), the
  respondent's kind, organisation type and region, the organisation's name only for
  organisations that consented to publication by name, the redacted text only for
  respondents who consented to publication (empty, and ``text_withheld`` true, otherwise),
  chosen options, codes and stance.

Spreadsheet cells (CSV, XLSX, open data) that begin with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return are neutralised with a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import string
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.consultations.models import Consultation, Proposal
from app.consultations.service import (
    consultation_for_analyst,
    get_consultation,
    require_access,
)
from app.enums import ConsultationStatus, PublicationConsent, RespondentKind, Role
from app.errors import ConsultError, NotFound
from app.security import server_key
from app.users.models import User

FORMATS = ("csv", "xlsx", "jsonl", "themefinder", "open-data")
ANALYST_FORMATS = ("csv", "xlsx", "jsonl", "themefinder")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/jsonl",
    "themefinder": "application/zip",
    "open-data": "text/csv; charset=utf-8",
}
EXTENSIONS = {
    "csv": "csv",
    "xlsx": "xlsx",
    "jsonl": "jsonl",
    "themefinder": "zip",
    "open-data": "csv",
}
# First characters a spreadsheet may read as the start of a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# An XLSX worksheet holds at most this many rows (the header included); more go on the next.
XLSX_MAX_ROWS = 1_048_576
STREAM_BATCH = 2_000

ANALYST_COLUMNS = (
    "response_id",
    "external_id",
    "submitted_at",
    "status",
    "status_reason",
    "channel",
    "respondent_kind",
    "organisation_name",
    "organisation_type",
    "region",
    "publication_consent",
    "campaign",
    "proposal_number",
    "proposal_title",
    "question_number",
    "question_text",
    "question_kind",
    "answer_id",
    "answer_text",
    "options",
    "codeframe_version",
    "coded",
    "theme_codes",
    "theme_labels",
    "stance",
)
OPEN_DATA_COLUMNS = (
    "response_number",
    "respondent_kind",
    "organisation_name",
    "organisation_type",
    "region",
    "channel",
    "campaign",
    "proposal_number",
    "proposal_title",
    "question_number",
    "question_text",
    "answer_text",
    "text_withheld",
    "options",
    "codeframe_version",
    "theme_codes",
    "theme_labels",
    "stance",
)
# ThemeFinder positions (sentiment.jsonl) for Consult stances.
POSITIONS = {"support": "AGREE", "oppose": "DISAGREE"}


# --------------------------------------------------------------------------------------
# Who may export what
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportTarget:
    consultation_id: uuid.UUID
    slug: str
    proposal_id: uuid.UUID | None
    format: str

    @property
    def filename(self) -> str:
        base = self.slug if self.format != "open-data" else f"{self.slug}-open-data"
        return f"{base}.{EXTENSIONS[self.format]}"


async def _is_analyst(session: AsyncSession, consultation: Consultation, user: User | None) -> bool:
    if user is None or user.role not in (Role.admin, Role.analyst):
        return False
    try:
        await require_access(
            session,
            consultation=consultation,
            user=user,
            roles=(Role.analyst,),
            action="export",
        )
    except ConsultError:  # Forbidden / NotFound: not one of its analysts
        return False
    return True


async def authorise(
    session: AsyncSession,
    *,
    slug: str,
    fmt: str,
    user: User | None,
    proposal_id: uuid.UUID | None = None,
    operator: bool = False,
) -> ExportTarget:
    """What may be exported. `operator`: the CLI, run by whoever runs the server.

    Analyst formats: admins and analysts of the consultation (403 for others, 404 for a
    draft they cannot see). Open data: anyone once the consultation is published, before
    that its admins and analysts only (404 for everyone else, as for the report).
    """
    if fmt not in FORMATS:
        raise NotFound(f"No export format '{fmt}'; use one of {', '.join(FORMATS)}.")
    if operator:
        consultation = await _by_slug(session, slug)
    elif fmt == "open-data":
        consultation = await get_consultation(session, slug=slug, user=user, structure=False)
        published = consultation.status == ConsultationStatus.published
        if not (published or await _is_analyst(session, consultation, user)):
            raise NotFound(
                f"The open data of '{slug}' is published with its report, once the "
                "consultation is published."
            )
    else:
        consultation = await consultation_for_analyst(
            session, slug=slug, user=user, action="export its responses"
        )
    if proposal_id is not None:
        owner = await session.scalar(
            select(Proposal.consultation_id).where(Proposal.id == proposal_id)
        )
        if owner != consultation.id:
            raise NotFound(f"No proposal {proposal_id} in '{slug}'.")
    return ExportTarget(consultation.id, consultation.slug, proposal_id, fmt)


async def _by_slug(session: AsyncSession, slug: str) -> Consultation:
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(f"No consultation '{slug}'.")
    return consultation


# --------------------------------------------------------------------------------------
# Reading the rows
# --------------------------------------------------------------------------------------

ROWS_SQL = """
SELECT r.id AS response_id, r.external_id, r.submitted_at, r.status, r.status_reason,
       r.channel, rs.kind AS respondent_kind, rs.organisation_name, rs.organisation_type,
       rs.region, rs.publication_consent, rs.attributes, cp.label AS campaign,
       p.id AS proposal_id, p.position AS proposal_position, p.title AS proposal_title,
       q.id AS question_id, q.number AS question_number, q.text AS question_text,
       q.kind AS question_kind, q.position AS question_position,
       a.id AS answer_id, a.redacted_text AS answer_text, a.options,
       cf.id AS codeframe_id, cf.version AS codeframe_version,
       k.coded, k.codes, k.labels, s.value AS stance
       {extra}
FROM answers a
JOIN questions q ON q.id = a.question_id
JOIN proposals p ON p.id = q.proposal_id
JOIN responses r ON r.id = a.response_id
JOIN respondents rs ON rs.id = r.respondent_id
LEFT JOIN campaigns cp ON cp.id = r.campaign_id
LEFT JOIN codeframes cf ON cf.proposal_id = p.id AND cf.status = 'published'
LEFT JOIN LATERAL (
    -- Per answer, an index probe (codings by answer and codeframe): linear whatever the
    -- table statistics say (a joined aggregate was planned as a rescanned inner on fresh
    -- data and went quadratic).
    SELECT true AS coded,
           coalesce(array_agg(t.code ORDER BY t.position, t.code) FILTER (WHERE c.present),
                    '{{}}') AS codes,
           coalesce(array_agg(t.label ORDER BY t.position, t.code) FILTER (WHERE c.present),
                    '{{}}') AS labels
    FROM codings c JOIN themes t ON t.id = c.theme_id
    WHERE c.answer_id = a.id AND c.codeframe_id = cf.id AND c.is_current
    HAVING count(*) > 0
) k ON true
LEFT JOIN stances s ON s.response_id = r.id AND s.proposal_id = p.id AND s.is_current
WHERE r.consultation_id = :consultation_id
  AND (CAST(:proposal_id AS uuid) IS NULL OR p.id = CAST(:proposal_id AS uuid))
  {where}
ORDER BY {order}
"""


def _rows_query(kind: str) -> str:
    if kind == "analyst":
        return ROWS_SQL.format(
            extra="", where="", order="r.submitted_at, r.id, p.position, q.position"
        )
    if kind == "themefinder":
        return ROWS_SQL.format(
            extra="",
            where="AND r.status = 'received'",
            order="p.position, q.position, r.submitted_at, r.id",
        )
    # Open data: responses numbered in an order keyed by a server secret (not linkable).
    keyed = "md5(r.id::text || CAST(:salt AS text))"
    return ROWS_SQL.format(
        extra=f", dense_rank() OVER (ORDER BY {keyed}) AS response_number",
        where="AND r.status = 'received'",
        order=f"{keyed}, p.position, q.position",
    )


def _salt(consultation_id: uuid.UUID) -> str:
    return hmac.new(server_key(), b"open-data:" + consultation_id.bytes, hashlib.sha256).hexdigest()


async def iter_rows(
    session: AsyncSession, target: ExportTarget, kind: str
) -> AsyncIterator[dict[str, Any]]:
    """The export's rows as dicts, streamed from a server-side cursor."""
    params: dict[str, Any] = {
        "consultation_id": target.consultation_id,
        "proposal_id": target.proposal_id,
    }
    if kind == "open-data":
        params["salt"] = _salt(target.consultation_id)
    # A cursor is planned for its first 10% of rows by default (nested loops that repeat
    # the codes aggregate per answer); an export reads every row.
    await session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = await session.stream(
        text(_rows_query(kind)).execution_options(yield_per=STREAM_BATCH), params
    )
    keys = list(result.keys())
    async for batch in result.partitions(STREAM_BATCH):
        for row in batch:
            yield dict(zip(keys, row, strict=True))


# --------------------------------------------------------------------------------------
# Row shapes
# --------------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A spreadsheet-safe cell: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def analyst_record(row: dict[str, Any]) -> dict[str, Any]:
    """One answer as typed values (JSONL; CSV and XLSX flatten the lists). A withdrawn
    response keeps its row (so counts reconcile with the audit log) without its text or
    chosen options: the respondent took them back."""
    withdrawn = row["status"] == "withdrawn"
    return {
        "response_id": str(row["response_id"]),
        "external_id": row["external_id"],
        "submitted_at": _iso(row["submitted_at"]),
        "status": row["status"],
        "status_reason": row["status_reason"],
        "channel": row["channel"],
        "respondent_kind": row["respondent_kind"],
        "organisation_name": row["organisation_name"],
        "organisation_type": row["organisation_type"],
        "region": row["region"],
        "publication_consent": row["publication_consent"],
        "campaign": row["campaign"],
        "proposal_number": row["proposal_position"] + 1,
        "proposal_title": row["proposal_title"],
        "question_number": row["question_number"],
        "question_text": row["question_text"],
        "question_kind": row["question_kind"],
        "answer_id": str(row["answer_id"]),
        "answer_text": None if withdrawn else row["answer_text"],
        "options": [] if withdrawn else list(row["options"] or []),
        "codeframe_version": row["codeframe_version"],
        "coded": bool(row["coded"]),
        "theme_codes": list(row["codes"] or []),
        "theme_labels": list(row["labels"] or []),
        "stance": row["stance"],
    }


def open_data_record(row: dict[str, Any]) -> dict[str, Any]:
    consent = row["publication_consent"]
    withheld = consent == PublicationConsent.do_not_publish.value
    named = (
        consent == PublicationConsent.publish.value
        and row["respondent_kind"] == RespondentKind.organisation.value
    )
    return {
        "response_number": int(row["response_number"]),
        "respondent_kind": row["respondent_kind"],
        "organisation_name": row["organisation_name"] if named else None,
        "organisation_type": row["organisation_type"],
        "region": row["region"],
        "channel": row["channel"],
        "campaign": row["campaign"],
        "proposal_number": row["proposal_position"] + 1,
        "proposal_title": row["proposal_title"],
        "question_number": row["question_number"],
        "question_text": row["question_text"],
        "answer_text": None if withheld else row["answer_text"],
        "text_withheld": withheld and bool(row["answer_text"]),
        "options": list(row["options"] or []),
        "codeframe_version": row["codeframe_version"],
        "theme_codes": list(row["codes"] or []),
        "theme_labels": list(row["labels"] or []),
        "stance": row["stance"],
    }


def flat_cells(record: dict[str, Any], columns: Iterable[str]) -> list[Any]:
    """Spreadsheet cells: lists joined with '; ', booleans as true/false, formulas defused."""
    cells: list[Any] = []
    for column in columns:
        value = record[column]
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        cells.append(neutralise(value))
    return cells


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


def _shape(fmt: str) -> tuple[str, Callable[[dict[str, Any]], dict[str, Any]], tuple[str, ...]]:
    if fmt == "open-data":
        return "open-data", open_data_record, OPEN_DATA_COLUMNS
    return "analyst", analyst_record, ANALYST_COLUMNS


def _csv_line(cells: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if c is None else c for c in cells])
    return buffer.getvalue()


async def stream_text(session: AsyncSession, target: ExportTarget) -> AsyncIterator[str]:
    """CSV (analyst or open data) or JSONL, line by line."""
    kind, shape, columns = _shape(target.format)
    if target.format == "jsonl":
        async for row in iter_rows(session, target, kind):
            yield json.dumps(shape(row), ensure_ascii=False) + "\n"
        return
    yield "\ufeff" + _csv_line(list(columns))  # a BOM: spreadsheets then read UTF-8
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    pending = 0
    async for row in iter_rows(session, target, kind):
        writer.writerow(["" if c is None else c for c in flat_cells(shape(row), columns)])
        pending += 1
        if pending >= 1_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


async def write_xlsx(session: AsyncSession, target: ExportTarget, out: IO[bytes]) -> int:
    """The analyst rows as a workbook (write-only mode); returns the number of answers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(list(ANALYST_COLUMNS))
    rows_in_sheet, count, sheets = 1, 0, 1
    async for row in iter_rows(session, target, "analyst"):
        if rows_in_sheet >= XLSX_MAX_ROWS:
            sheets += 1
            sheet = book.create_sheet(f"answers ({sheets})")
            sheet.append(list(ANALYST_COLUMNS))
            rows_in_sheet = 1
        sheet.append(flat_cells(analyst_record(row), ANALYST_COLUMNS))
        rows_in_sheet += 1
        count += 1
    book.save(out)
    return count


# --------------------------------------------------------------------------------------
# ThemeFinder layout
# --------------------------------------------------------------------------------------


def theme_ids(n: int) -> list[str]:
    """ThemeFinder topic ids: A, B, ... Z, AA, AB, ... without the single letters X and Y
    (ThemeFinder's "None of the Above" and "No Reason Given")."""
    letters = [c for c in string.ascii_uppercase if c not in "XY"]
    out: list[str] = []
    i = 0
    while len(out) < n:
        if i < len(letters):
            out.append(letters[i])
        else:
            j = i - len(letters)
            out.append(string.ascii_uppercase[j // 26] + string.ascii_uppercase[j % 26])
        i += 1
    return out


def _jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=4, ensure_ascii=False) + "\n").encode()


def _respondent_id(row: dict[str, Any]) -> str:
    return str(row["external_id"]) if row["external_id"] else str(row["response_id"])


async def _codeframe_themes(
    session: AsyncSession, codeframe_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    if not codeframe_ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT codeframe_id, code, label, description FROM themes "
            "WHERE codeframe_id = ANY(:ids) ORDER BY position, code"
        ),
        {"ids": list(codeframe_ids)},
    )
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for codeframe_id, code, label, description in rows:
        out.setdefault(codeframe_id, []).append(
            {"code": code, "label": label, "description": description}
        )
    return out


async def write_themefinder(
    session: AsyncSession,
    target: ExportTarget,
    put: Callable[[str, bytes], None],
    *,
    today: str | None = None,
) -> dict[str, int]:
    """Writes the layout through `put(relative_path, data)`; returns counts per part.

    Parts are numbered by question number where it is a whole number (so that re-importing
    matches each part to its question), otherwise by the question's position.
    """
    today = today or datetime.now(UTC).date().isoformat()
    respondents: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    part: dict[str, Any] | None = None
    used_numbers: set[int] = set()
    ordinal = 0
    codeframe_ids: set[uuid.UUID] = set()
    parts: list[dict[str, Any]] = []

    def flush() -> None:
        if part is None or not part["responses"]:
            return  # a question nobody answered gets no folder
        name = part["name"]
        put(f"inputs/{name}/question.json", _json(part["question"]))
        put(f"inputs/{name}/responses.jsonl", _jsonl(part["responses"]))
        counts[name] = len(part["responses"])
        parts.append(part)

    async for row in iter_rows(session, target, "themefinder"):
        if part is None or part["question_id"] != row["question_id"]:
            flush()
            ordinal += 1
            number = row["question_number"].strip()
            n = int(number) if number.isdigit() and int(number) not in used_numbers else None
            if n is None:
                n = ordinal
                while n in used_numbers:
                    n += 1
            used_numbers.add(n)
            question: dict[str, Any] = {
                "question_number": int(number) if number.isdigit() else number,
                "question_text": row["question_text"],
                "question_kind": row["question_kind"],
                "proposal": row["proposal_title"],
            }
            part = {
                "name": f"question_part_{n}",
                "question_id": row["question_id"],
                "question": question,
                "open": row["question_kind"] == "open_text",
                "codeframe_id": row["codeframe_id"],
                "responses": [],
                "mapping": [],
                "sentiment": [],
            }
            if row["codeframe_id"] is not None and part["open"]:
                codeframe_ids.add(row["codeframe_id"])
        rid = _respondent_id(row)
        if rid not in respondents:
            respondents[rid] = {
                "response_id": rid,
                "demographic_data": {
                    **(row["attributes"] or {}),
                    "respondent_kind": row["respondent_kind"],
                    **({"region": row["region"]} if row["region"] else {}),
                    **(
                        {"organisation_type": row["organisation_type"]}
                        if row["organisation_type"]
                        else {}
                    ),
                },
            }
        if part["open"]:
            if not (row["answer_text"] or "").strip():
                continue
            part["responses"].append({"response_id": rid, "response": row["answer_text"]})
            if row["coded"]:
                part["mapping"].append({"response_id": rid, "codes": list(row["codes"] or [])})
            if row["stance"] is not None:
                part["sentiment"].append(
                    {"response_id": rid, "position": POSITIONS.get(row["stance"], "UNCLEAR")}
                )
        else:
            options = list(row["options"] or [])
            if not options:
                continue
            value: Any = options if row["question_kind"] == "multi_choice" else options[0]
            part["responses"].append({"response_id": rid, "response": value})
    flush()
    put("inputs/respondents.jsonl", _jsonl(respondents.values()))

    themes = await _codeframe_themes(session, codeframe_ids)
    for p in parts:
        if not p["open"] or p["codeframe_id"] not in themes:
            continue
        frame = themes[p["codeframe_id"]]
        letters = dict(zip((t["code"] for t in frame), theme_ids(len(frame)), strict=True))
        base = f"outputs/mapping/{today}/{p['name']}"
        put(
            f"{base}/themes.json",
            _json(
                [
                    {
                        "topic_id": letters[t["code"]],
                        "topic_label": t["label"],
                        "topic_description": t["description"],
                        "topic": f"{t['label']}: {t['description']}"
                        if t["description"]
                        else t["label"],
                        "consult_code": t["code"],
                    }
                    for t in frame
                ]
            ),
        )
        put(
            f"{base}/mapping.jsonl",
            _jsonl(
                {"response_id": m["response_id"], "labels": [letters[c] for c in m["codes"]]}
                for m in p["mapping"]
            ),
        )
        put(f"{base}/sentiment.jsonl", _jsonl(p["sentiment"]))
    return counts


async def write_themefinder_zip(
    session: AsyncSession, target: ExportTarget, out: IO[bytes]
) -> dict[str, int]:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: bytes) -> None:
            archive.writestr(f"{target.slug}/{name}", data)

        return await write_themefinder(session, target, put)


# --------------------------------------------------------------------------------------
# One entry point for the API and the CLI
# --------------------------------------------------------------------------------------


async def stream_bytes(session: AsyncSession, target: ExportTarget) -> AsyncIterator[bytes]:
    """The export as a stream of bytes (the XLSX and zip are built in a spooled temporary
    file first: both formats need their whole content before they can be read)."""
    if target.format in ("csv", "jsonl", "open-data"):
        async for chunk in stream_text(session, target):
            yield chunk.encode()
        return
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        if target.format == "xlsx":
            await write_xlsx(session, target, spool)
        else:
            await write_themefinder_zip(session, target, spool)
        spool.seek(0)
        while block := spool.read(1024 * 1024):
            yield block


async def export_to_path(session: AsyncSession, target: ExportTarget, path: Path) -> str:
    """Writes the export to `path` (the ThemeFinder layout as a folder unless `path` ends in
    .zip); returns a one-line summary."""
    if target.format == "themefinder" and path.suffix.lower() != ".zip":

        def put(name: str, data: bytes) -> None:
            file = path / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)

        counts = await write_themefinder(session, target, put)
        return f"Wrote the ThemeFinder layout of '{target.slug}' to {path}/ ({_parts(counts)})."
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("wb") as fh:
        async for chunk in stream_bytes(session, target):
            fh.write(chunk)
            size += len(chunk)
    return f"Wrote the {target.format} export of '{target.slug}' to {path} ({size:,} bytes)."


def _parts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}: {n} answers" for name, n in counts.items()) or "no answers"
