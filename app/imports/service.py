"""Importing responses from files: all rows or none.

An import runs in three steps inside the caller's transaction:

1. **Read** the file into a table (`app.imports.readers`).
2. **Plan and validate** every row before anything is written: each column is matched to a
   question (by number: ``1``, ``Q1``, ``Question 1``; by the exact question text; or by a
   mapping file) or to a respondent field; every cell is checked with the same rules as the
   API (`answer_problem`: valid options, text length, required questions) plus the
   respondent fields and external ids. The first problems (up to :data:`MAX_PROBLEMS`) are
   reported, each naming its row and column, and nothing is stored.
3. **Write** with PostgreSQL ``COPY ... FROM STDIN`` into respondents, responses and answers
   on the session's own connection (so the caller's commit or rollback covers it), with ids
   and receipt codes generated here and the redacted text of every answer.

Decisions (the design leaves these open):

* Imports are allowed into consultations of any status, drafts included: analysts load
  historical responses (from paper, email or an earlier tool) whatever the state of the
  online form. Admins may import anywhere; analysts only into consultations they are members
  of (others get 403, or 404 for a draft, which they cannot see).
* A missing or blank respondent kind means ``individual``; a missing or blank publication
  consent means ``do_not_publish`` (the safest reading: nothing is quoted without consent);
  a missing channel means ``import``; a missing ``submitted_at`` means the time of the import.
* Unknown columns are an error naming the column (a typo must not drop a question's answers
  silently); a mapping file can say ``"column": null`` to ignore a column, or
  ``"column": "attribute"`` to keep it in the respondent's attributes.
* Rows whose cells are all blank are skipped (trailing blank lines). A row with respondent
  details but no answers at all is an error, as it is for the API.
* Response and respondent ids are time-ordered UUIDs (version 7 layout): the rows of one
  import sit next to each other in the primary-key and foreign-key indexes, which makes a
  bulk load markedly cheaper than random version 4 ids.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.redaction import redact_many
from app.consultations.models import Consultation
from app.consultations.service import consultation_for_analyst
from app.enums import (
    Channel,
    PublicationConsent,
    QuestionKind,
    RespondentKind,
    ResponseStatus,
)
from app.errors import Conflict, ImportFailed, field_error
from app.imports.models import Import
from app.imports.readers import (
    ATTRIBUTE_KEYS,
    ATTRIBUTES_COLUMN,
    SourceTable,
    detect_format,
    read_bytes,
    read_path,
)
from app.responses.intake import FormSpec, QuestionSpec, answer_problem
from app.responses.service import load_form
from app.security import RECEIPT_ALPHABET
from app.users.models import User

MAX_PROBLEMS = 20
# Rows whose answers are formatted and sent per COPY chunk (the next chunk is prepared while
# the server stores the previous one).
CHUNK_ROWS = 5_000
# Distinct texts per redaction task; imports with at least PROCESS_POOL_MIN_TEXTS distinct
# texts redact in a pool of processes (one per core, at most MAX_REDACTION_WORKERS).
REDACTION_BATCH = 2_000
PROCESS_POOL_MIN_TEXTS = 50_000
MAX_REDACTION_WORKERS = 8
# Imports of at least this many rows that more than double the responses table refresh the
# statistics of respondents and responses before the answers are stored (see _write).
ANALYZE_MIN_ROWS = 10_000

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage "parsed" (rows validated) or "written" (rows stored);
total 0 while the file is still being read."""

# Respondent fields a column can fill, by normalised header.
FIELD_ALIASES: dict[str, str] = {
    "response_id": "external_id",
    "id": "external_id",
    "external_id": "external_id",
    "respondent_kind": "kind",
    "kind": "kind",
    "organisation_name": "organisation_name",
    "organization_name": "organisation_name",
    "organisation_type": "organisation_type",
    "organization_type": "organisation_type",
    "region": "region",
    "email": "email",
    "name": "name",
    "publication_consent": "publication_consent",
    "channel": "channel",
    "submitted_at": "submitted_at",
}
FIELD_LIMITS = {
    "external_id": 200,
    "name": 200,
    "organisation_name": 300,
    "organisation_type": 100,
    "region": 100,
    "email": 320,
}
ATTRIBUTE = "attribute"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NUMBERED_HEADER_RE = re.compile(r"^(?:q|question)[\s_.#-]*(?P<n>\S+)$", re.IGNORECASE)
NUMBER_AND_TEXT_RE = re.compile(
    r"^(?:q|question)?[\s_.#-]*(?P<n>[0-9][\w.]*?)\s*[:.)\-]\s*(?P<t>.+)$", re.IGNORECASE
)
UK_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
KINDS = {
    "individual": RespondentKind.individual.value,
    "organisation": "organisation",
    "organization": "organisation",
}
CONSENTS = {c.value: c.value for c in PublicationConsent}
CHANNELS = {c.value: c.value for c in Channel}


@dataclass(frozen=True)
class ImportResult:
    import_id: uuid.UUID
    format: str
    filename: str
    responses: int
    answers: int
    timings: dict[str, float] = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------------------
# Permissions and entry point
# --------------------------------------------------------------------------------------


async def authorise(session: AsyncSession, *, slug: str, user: User | None) -> Consultation:
    """The consultation if `user` may import into it (None: the CLI, run by the operator)."""
    return await consultation_for_analyst(session, slug=slug, user=user, action="import responses")


def parse_mapping(raw: str | bytes | dict[str, Any] | None) -> dict[str, str | None]:
    """A mapping file: ``{"column": "question number" | respondent field | "attribute" | null}``."""
    if raw is None or raw == "" or raw == b"":
        return {}
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            message = f"The mapping is not valid JSON ({exc})."
            raise _fail([field_error(["mapping"], message, "mapping")]) from None
    if not isinstance(raw, dict):
        message = 'The mapping must be a JSON object: {"column name": "question number", ...}.'
        raise _fail([field_error(["mapping"], message, "mapping")])
    mapping: dict[str, str | None] = {}
    for key, value in raw.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            message = f"Mapping of '{key}': give a question number, a respondent field or null."
            raise _fail([field_error(["mapping", key], message, "mapping")])
        mapping[str(key).strip()] = None if value is None else str(value).strip()
    return mapping


async def import_responses(
    session: AsyncSession,
    *,
    slug: str,
    user: User | None,
    filename: str,
    data: bytes | None = None,
    path: Path | None = None,
    file_format: str | None = None,
    mapping: dict[str, str | None] | None = None,
    max_answer_chars: int,
    progress: Progress | None = None,
) -> ImportResult:
    """Reads, validates and stores one file of responses: every row, or nothing.

    Give `data` (an upload; a ThemeFinder folder as a zip) or `path` (a file or folder).
    Validation problems raise `ImportFailed` (422) with up to `MAX_PROBLEMS` fields, each
    located by row and column. Writing flushes into the session's transaction; the caller
    commits.
    """
    consultation = await authorise(session, slug=slug, user=user)
    form = await load_form(session, consultation)
    started = time.perf_counter()
    if progress is not None:
        progress("parsed", 0, 0)  # total unknown until the file is read
    if path is not None:
        table = await asyncio.to_thread(read_path, path, file_format)
    else:
        assert data is not None, "give data or path"
        fmt = detect_format(filename, file_format)
        table = await asyncio.to_thread(read_bytes, data, fmt)
    read_at = time.perf_counter()
    plan = plan_columns(table, form, mapping or {})
    prepared = await asyncio.to_thread(validate_rows, table, plan, max_answer_chars, progress)
    await _check_existing_ids(session, consultation.id, table, plan, prepared)
    validated_at = time.perf_counter()
    write_timings: dict[str, float] = {}
    import_id = await _write(
        session,
        consultation_id=consultation.id,
        user=user,
        filename=filename,
        table=table,
        prepared=prepared,
        progress=progress,
        timings=write_timings,
    )
    written_at = time.perf_counter()
    return ImportResult(
        import_id=import_id,
        format=table.format,
        filename=filename,
        responses=prepared.count,
        answers=len(prepared.answer_rows),
        timings={
            "read": read_at - started,
            "validate": validated_at - read_at,
            "write": written_at - validated_at,
            **{f"write.{k}": v for k, v in write_timings.items()},
        },
    )


# --------------------------------------------------------------------------------------
# Planning: which column is what
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionColumn:
    index: int
    name: str
    spec: QuestionSpec
    # Option as written in the file (casefolded) -> the question's own spelling.
    options: dict[str, str]


@dataclass
class Plan:
    fields: dict[str, int]  # respondent field -> column index
    questions: list[QuestionColumn]
    attributes: list[tuple[int, str]]  # (column index, attribute key)
    attribute_objects: list[int]  # columns holding a whole attributes object
    required_unmapped: list[QuestionSpec]


def _normalise(value: str) -> str:
    return " ".join(value.split()).casefold()


def _field_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().casefold())


def _lap(timings: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - since
    return now


def _capitalised(where: str) -> str:
    """ "row 3 ..." -> "Row 3 ..."; a file path stays as written."""
    first = where.split(" ", 1)[0]
    return where if "/" in first else where[:1].upper() + where[1:]


def _fail(problems: list[dict[str, Any]], total: int | None = None) -> ImportFailed:
    total = len(problems) if total is None else total
    shown = problems[:MAX_PROBLEMS]
    more = f" The first {len(shown)} of {total} problems are listed." if total > len(shown) else ""
    noun = "problem" if total == 1 else "problems"
    return ImportFailed(
        f"The import was rejected ({total} {noun}); nothing was stored.{more}", fields=shown
    )


def plan_columns(table: SourceTable, form: FormSpec, mapping: dict[str, str | None]) -> Plan:
    by_number = {q.number.strip().casefold(): q for q in form.questions}
    by_text = {_normalise(q.text): q for q in form.questions}
    problems: list[dict[str, Any]] = []
    fields: dict[str, int] = {}
    questions: list[QuestionColumn] = []
    attributes: list[tuple[int, str]] = []
    objects: list[int] = []
    claimed: dict[uuid.UUID, str] = {}

    for key in mapping:
        if key not in table.columns:
            problems.append(
                field_error(
                    ["mapping", key],
                    f"The mapping names column '{key}', which is not in the file.",
                    "unknown_mapping_column",
                )
            )

    def question_for(column: str) -> QuestionSpec | None:
        if table.format == "themefinder" and column in table.part_numbers:
            return by_number.get(table.part_numbers[column].casefold())
        header = column.strip()
        found = by_number.get(header.casefold())
        if found is None:
            match = NUMBERED_HEADER_RE.match(header)
            if match:
                found = by_number.get(match.group("n").rstrip(".:").casefold())
        if found is None:
            found = by_text.get(_normalise(header))
        if found is None:
            match = NUMBER_AND_TEXT_RE.match(header)
            if match and _normalise(match.group("t")) == _normalise(
                getattr(by_number.get(match.group("n").casefold()), "text", "\0")
            ):
                found = by_number[match.group("n").casefold()]
        return found

    def add_question(index: int, column: str, spec: QuestionSpec) -> None:
        if spec.id in claimed:
            problems.append(
                field_error(
                    ["column", column],
                    f"Columns '{claimed[spec.id]}' and '{column}' both answer question "
                    f"{spec.number}.",
                    "duplicate_column",
                )
            )
            return
        claimed[spec.id] = column
        options = {o.casefold().strip(): o for o in spec.options}
        options.update({o: o for o in spec.options})
        questions.append(QuestionColumn(index, column, spec, options))

    def add_field(index: int, column: str, name: str) -> None:
        if name in fields:
            other = table.columns[fields[name]]
            problems.append(
                field_error(
                    ["column", column],
                    f"Columns '{other}' and '{column}' are both the respondent's {name}.",
                    "duplicate_column",
                )
            )
            return
        fields[name] = index

    for index, column in enumerate(table.columns):
        if column in mapping:
            target = mapping[column]
            if target is None:
                continue
            spec = by_number.get(target.casefold())
            if spec is not None:
                add_question(index, column, spec)
            elif _field_key(target) in FIELD_ALIASES:
                add_field(index, column, FIELD_ALIASES[_field_key(target)])
            elif target.casefold() == ATTRIBUTE:
                attributes.append((index, column))
            else:
                problems.append(
                    field_error(
                        ["mapping", column],
                        f"The mapping sends column '{column}' to '{target}', which is neither a "
                        "question number of this consultation, a respondent field, "
                        "'attribute' nor null.",
                        "unknown_mapping_target",
                    )
                )
            continue
        if table.format == "themefinder" and column == ATTRIBUTES_COLUMN:
            objects.append(index)
            continue
        if table.format == "jsonl" and column in ATTRIBUTE_KEYS:
            objects.append(index)
            continue
        key = _field_key(column)
        if key in FIELD_ALIASES:
            add_field(index, column, FIELD_ALIASES[key])
            continue
        spec = question_for(column)
        if spec is not None:
            add_question(index, column, spec)
            continue
        problems.append(
            field_error(
                ["column", column],
                f"Column '{column}' matches no question (by number or exact text) and no "
                "respondent field. Fix the header, or map it in a mapping file "
                f'({{"{column}": "<question number>"}}, or null to ignore it).',
                "unknown_column",
            )
        )

    required_unmapped = [q for q in form.questions if q.required and q.id not in claimed]
    for spec in required_unmapped:
        problems.append(
            field_error(
                ["question", spec.number],
                f"Question {spec.number} must be answered, but no column of the file answers it.",
                "required",
            )
        )
    if not questions and not problems:
        problems.append(
            field_error(
                ["file"],
                "No column of the file answers a question of this consultation.",
                "no_questions",
            )
        )
    if problems:
        raise _fail(problems)
    return Plan(fields, questions, attributes, objects, required_unmapped)


# --------------------------------------------------------------------------------------
# Validation: every row, before anything is written
# --------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """The validated rows, column by column, ready for COPY."""

    count: int = 0
    source_index: list[int] = field(default_factory=list)
    external_id: list[str | None] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    name: list[str | None] = field(default_factory=list)
    organisation_name: list[str | None] = field(default_factory=list)
    organisation_type: list[str | None] = field(default_factory=list)
    region: list[str | None] = field(default_factory=list)
    email: list[str | None] = field(default_factory=list)
    consent: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    submitted_at: list[str | None] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    # One entry per answer, in row order: (prepared row, question id, text, options).
    answer_rows: list[int] = field(default_factory=list)
    answer_questions: list[uuid.UUID] = field(default_factory=list)
    answer_texts: list[str | None] = field(default_factory=list)
    answer_options: list[tuple[str, ...]] = field(default_factory=list)
    # Where each answer's first row ends in answer_* (len count + 1).
    answer_starts: list[int] = field(default_factory=list)


def _scalar_text(value: Any) -> str | None:
    """A cell as stripped text; None when blank."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    stripped = str(value).strip()
    return stripped or None


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raw = str(value).strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        for fmt in UK_DATE_FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _choices(value: Any, column: QuestionColumn) -> tuple[list[str], bool]:
    """The options chosen in a cell (mapped to the question's spelling); bool: was a list."""
    if isinstance(value, list):
        items = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return [column.options.get(i) or column.options.get(i.casefold(), i) for i in items], True
    cell = _scalar_text(value)
    if cell is None:
        return [], False
    whole = column.options.get(cell) or column.options.get(cell.casefold())
    if whole is not None:
        return [whole], False
    if column.spec.kind == QuestionKind.multi_choice and ";" in cell:
        items = [p.strip() for p in cell.split(";") if p.strip()]
    else:
        items = [cell]
    return [column.options.get(i) or column.options.get(i.casefold(), i) for i in items], False


def validate_rows(
    table: SourceTable, plan: Plan, max_answer_chars: int, progress: Progress | None = None
) -> Prepared:
    """Checks every row; raises ImportFailed with the first problems, by row and column."""
    problems: list[dict[str, Any]] = []
    total_problems = 0

    def problem(index: int, column: str, message: str, type_: str) -> None:
        nonlocal total_problems
        total_problems += 1
        if len(problems) < MAX_PROBLEMS:
            loc, where = table.locate(index, column)
            problems.append(field_error(loc, f"{_capitalised(where)}: {message}", type_))

    out = Prepared()
    columns = table.columns
    field_index = plan.fields
    text_fields = [
        (name, field_index[name], FIELD_LIMITS[name], getattr(out, name))
        for name in ("name", "organisation_name", "organisation_type", "region", "email")
        if name in field_index
    ]
    absent_text_fields = [
        getattr(out, name)
        for name in ("name", "organisation_name", "organisation_type", "region", "email")
        if name not in field_index
    ]
    id_col = field_index.get("external_id")
    kind_col = field_index.get("kind")
    consent_col = field_index.get("publication_consent")
    channel_col = field_index.get("channel")
    time_col = field_index.get("submitted_at")
    first_seen: dict[str, int] = {}
    open_text = QuestionKind.open_text
    questions = plan.questions
    a_rows, a_questions, a_texts, a_options = (
        out.answer_rows,
        out.answer_questions,
        out.answer_texts,
        out.answer_options,
    )
    starts = out.answer_starts
    n_rows = len(table.rows)
    step = max(1000, n_rows // 100)

    for index, row in enumerate(table.rows):
        width = len(row)
        row_start = len(a_rows)
        before = total_problems
        prepared_index = out.count

        # Answers.
        answered: set[uuid.UUID] = set()
        for qc in questions:
            value = row[qc.index] if qc.index < width else None
            spec = qc.spec
            if spec.kind == open_text:
                if value is None:
                    continue
                if isinstance(value, list):
                    problem(
                        index,
                        qc.name,
                        f"Question {spec.number} takes text, not a list of options.",
                        "invalid_answer",
                    )
                    continue
                answer = value.strip() if isinstance(value, str) else _scalar_text(value)
                if not answer:
                    continue
                if len(answer) > max_answer_chars:
                    message = answer_problem(spec, answer, (), max_answer_chars)
                    problem(index, qc.name, f"{message} (It has {len(answer)}.)", "too_long")
                    continue
                if "\x00" in answer:
                    problem(
                        index, qc.name, "The answer contains a NUL character.", "invalid_answer"
                    )
                    continue
                a_rows.append(prepared_index)
                a_questions.append(spec.id)
                a_texts.append(answer)
                a_options.append(())
                answered.add(spec.id)
            else:
                chosen, _ = _choices(value, qc)
                if not chosen:
                    continue
                message = answer_problem(spec, None, chosen, max_answer_chars)
                if message is not None:
                    if spec.kind == QuestionKind.single_choice and len(chosen) > 1:
                        message += " (Only multiple-choice questions take several options.)"
                    elif "is not an option" in message:
                        message += f" The options are: {'; '.join(spec.options)}."
                    problem(index, qc.name, message, "invalid_answer")
                    continue
                a_rows.append(prepared_index)
                a_questions.append(spec.id)
                a_texts.append(None)
                a_options.append(tuple(chosen))
                answered.add(spec.id)
        for qc in questions:
            if qc.spec.required and qc.spec.id not in answered:
                value = row[qc.index] if qc.index < width else None
                if value is None or _scalar_text(value) is None or value == []:
                    problem(
                        index, qc.name, f"Question {qc.spec.number} must be answered.", "required"
                    )

        # Respondent.
        external_id = None
        if id_col is not None and id_col < width:
            external_id = _scalar_text(row[id_col])
            if external_id is not None:
                if len(external_id) > FIELD_LIMITS["external_id"]:
                    problem(
                        index, columns[id_col], "The id is longer than 200 characters.", "too_long"
                    )
                elif external_id in first_seen:
                    first = table.locate(first_seen[external_id], columns[id_col])[1]
                    problem(
                        index,
                        columns[id_col],
                        f"The id '{external_id}' is also used in {first}.",
                        "duplicate_id",
                    )
                else:
                    first_seen[external_id] = index
        kind = RespondentKind.individual.value
        if kind_col is not None and kind_col < width:
            raw = _scalar_text(row[kind_col])
            if raw is not None:
                found = KINDS.get(raw.casefold())
                if found is None:
                    problem(
                        index,
                        columns[kind_col],
                        f"'{raw}' is not a respondent kind; use individual or organisation.",
                        "invalid_value",
                    )
                else:
                    kind = found
        values: dict[str, str | None] = {}
        for name, col, limit, _ in text_fields:
            cell = _scalar_text(row[col]) if col < width else None
            if cell is not None:
                if len(cell) > limit:
                    problem(
                        index,
                        columns[col],
                        f"The {name.replace('_', ' ')} is longer than {limit} characters.",
                        "too_long",
                    )
                elif name == "email" and not EMAIL_RE.match(cell):
                    problem(
                        index, columns[col], f"'{cell}' is not an email address.", "invalid_value"
                    )
                elif "\x00" in cell:
                    problem(
                        index, columns[col], "The value contains a NUL character.", "invalid_value"
                    )
            values[name] = cell
        if kind == "organisation" and not values.get("organisation_name"):
            column = columns[kind_col] if kind_col is not None else "respondent_kind"
            problem(
                index, column, "An organisation's response needs its organisation_name.", "required"
            )
        consent = PublicationConsent.do_not_publish.value
        if consent_col is not None and consent_col < width:
            raw = _scalar_text(row[consent_col])
            if raw is not None:
                found = CONSENTS.get(_field_key(raw))
                if found is None:
                    problem(
                        index,
                        columns[consent_col],
                        f"'{raw}' is not a publication consent; use publish, "
                        "publish_anonymously or do_not_publish.",
                        "invalid_value",
                    )
                else:
                    consent = found
        channel = Channel.import_.value
        if channel_col is not None and channel_col < width:
            raw = _scalar_text(row[channel_col])
            if raw is not None:
                found = CHANNELS.get(raw.casefold())
                if found is None:
                    problem(
                        index,
                        columns[channel_col],
                        f"'{raw}' is not a channel; use {', '.join(CHANNELS)}.",
                        "invalid_value",
                    )
                else:
                    channel = found
        submitted: str | None = None
        if time_col is not None and time_col < width and row[time_col] not in (None, ""):
            when = _parse_time(row[time_col])
            if when is None:
                problem(
                    index,
                    columns[time_col],
                    f"'{row[time_col]}' is not a date and time (use ISO 8601, e.g. "
                    "2016-04-29T17:05:00Z, or DD/MM/YYYY HH:MM).",
                    "invalid_value",
                )
            else:
                submitted = when.isoformat()
        attributes: dict[str, Any] = {}
        for col in plan.attribute_objects:
            value = row[col] if col < width else None
            if value is None:
                continue
            if not isinstance(value, dict):
                problem(index, columns[col], "Expected an object of attributes.", "invalid_value")
                continue
            attributes.update(value)
        for col, key in plan.attributes:
            if col < width and row[col] not in (None, ""):
                attributes[key] = (
                    row[col].strip() if isinstance(row[col], str) else _scalar_text(row[col])
                )

        if row_start == len(a_rows) and total_problems == before:
            column = questions[0].name if questions else columns[0]
            problem(index, column, "The row has no answers.", "empty_response")
        if total_problems != before:
            del (
                a_rows[row_start:],
                a_questions[row_start:],
                a_texts[row_start:],
                a_options[row_start:],
            )
            continue

        out.count += 1
        starts.append(row_start)
        out.source_index.append(index)
        out.external_id.append(external_id)
        out.kind.append(kind)
        for name, _, _, target in text_fields:
            target.append(values[name])
        for target in absent_text_fields:
            target.append(None)
        out.consent.append(consent)
        out.channel.append(channel)
        out.submitted_at.append(submitted)
        out.attributes.append(
            json.dumps(attributes, ensure_ascii=False, default=str) if attributes else "{}"
        )
        if progress is not None and index % step == 0:
            progress("parsed", index, n_rows)

    if problems:
        raise _fail(problems, total_problems)
    starts.append(len(a_rows))
    if progress is not None:
        progress("parsed", n_rows, n_rows)
    return out


async def _check_existing_ids(
    session: AsyncSession,
    consultation_id: uuid.UUID,
    table: SourceTable,
    plan: Plan,
    prepared: Prepared,
) -> None:
    ids = [e for e in prepared.external_id if e is not None]
    if not ids:
        return
    rows = await session.execute(
        text(
            "SELECT external_id FROM responses "
            "WHERE consultation_id = :consultation_id AND external_id = ANY(:ids)"
        ),
        {"consultation_id": consultation_id, "ids": ids},
    )
    existing = {r[0] for r in rows}
    if not existing:
        return
    column = table.columns[plan.fields["external_id"]]
    problems: list[dict[str, Any]] = []
    for position, external_id in enumerate(prepared.external_id):
        if external_id in existing:
            loc, where = table.locate(prepared.source_index[position], column)
            problems.append(
                field_error(
                    loc,
                    f"{_capitalised(where)}: a response with id '{external_id}' was "
                    "already imported into this consultation.",
                    "already_imported",
                )
            )
    raise _fail(problems)


# --------------------------------------------------------------------------------------
# Writing: COPY into the session's transaction
# --------------------------------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _copy_text(value: str | None) -> str:
    """One field of COPY's text format."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _array_literal(items: Sequence[str]) -> str:
    if not items:
        return "{}"
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return "{" + ",".join(quoted) + "}"


def time_ordered_ids(count: int) -> list[str]:
    """`count` distinct UUIDs in the version 7 layout (48-bit milliseconds, then random),
    increasing within the batch, as strings."""
    millis = time.time_ns() // 1_000_000
    rand_a = secrets.randbits(12)
    base = secrets.randbits(62)
    mask = (1 << 62) - 1
    high = (millis << 16) | (0x7 << 12) | rand_a
    prefix = f"{high:016x}"
    head = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-"
    out = []
    for i in range(count):
        low = (0b10 << 62) | ((base + i) & mask)
        tail = f"{low:016x}"
        out.append(f"{head}{tail[:4]}-{tail[4:]}")
    return out


def receipt_codes(count: int, taken: Iterable[str] = ()) -> list[str]:
    """`count` distinct receipt codes in app.security's format (XXXX-XXXX-XXXX, 60 random bits)."""
    table = bytes(ord(RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)]) for b in range(256))
    seen = set(taken)
    codes: list[str] = []
    while len(codes) < count:
        need = count - len(codes)
        raw = secrets.token_bytes(12 * need).translate(table).decode()
        for i in range(0, 12 * need, 12):
            code = f"{raw[i : i + 4]}-{raw[i + 4 : i + 8]}-{raw[i + 8 : i + 12]}"
            if code not in seen:
                seen.add(code)
                codes.append(code)
    return codes


def _name_if_present(text: str, name: str | None) -> str | None:
    """The respondent's name if one of its words occurs in the text, else None: the name rule
    cannot match otherwise, and leaving it out lets identical texts share one redaction."""
    if not name:
        return None
    folded = text.casefold()
    for word in name.split():
        part = word.strip(".,").casefold()
        if part and part in folded:
            return name
    return None


def redact_batch(pairs: list[tuple[str, str | None]]) -> list[str]:
    """Redacted texts of (text, respondent name) pairs."""
    return [r.text for r in redact_many([p[0] for p in pairs], [_names(p[1]) for p in pairs])]


def _names(name: str | None) -> tuple[str, ...]:
    return (name,) if name else ()


def redaction_workers() -> int:
    """Processes for redacting large imports: one per core, at most MAX_REDACTION_WORKERS
    (0: a thread of this process instead). They share the cores with this process and
    PostgreSQL, but this process mostly waits on the server, and a thread would hold the
    GIL against the formatting and sending of COPY data."""
    return max(0, min(os.cpu_count() or 1, MAX_REDACTION_WORKERS))


def _pool_context() -> Any:
    """How redaction workers start: forked where the platform can (milliseconds: they
    inherit the loaded redaction library and import nothing; the workers only run
    redact_many and never touch this process's connections or threads). A forkserver or
    spawned worker re-imports the program's ``__main__`` (``consult``, uvicorn: the whole
    app, about a CPU second each), which costs as much as it saves on a 2-core machine."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["analysis.redaction"])
    return context


class _Redactor:
    """Redacts every distinct (text, name) pair of an import once, in the background.

    Redaction is pure Python and the largest cost of an import. Large imports send batches
    to a pool of processes, which work while this process formats and streams COPY data;
    small ones (and MAX_REDACTION_WORKERS = 0) use one thread.
    """

    def __init__(self, prepared: Prepared, bounds: list[int]):
        texts, rows, names = prepared.answer_texts, prepared.answer_rows, prepared.name
        position: dict[tuple[str, str | None], int] = {}
        self.positions: list[int] = [-1] * len(texts)
        self.needed: list[int] = []  # distinct pairs needed up to the end of each chunk
        for k in range(1, len(bounds)):
            first = prepared.answer_starts[bounds[k - 1]]
            for a in range(first, prepared.answer_starts[bounds[k]]):
                text = texts[a]
                if text is not None:
                    key = (text, _name_if_present(text, names[rows[a]]))
                    found = position.get(key)
                    if found is None:
                        found = position[key] = len(position)
                    self.positions[a] = found
            self.needed.append(len(position))
        pairs = list(position)
        self.batches = [
            pairs[i : i + REDACTION_BATCH] for i in range(0, len(pairs), REDACTION_BATCH)
        ]
        self.results: list[list[str]] = []
        self.executor: Executor
        workers = redaction_workers()
        if len(pairs) >= PROCESS_POOL_MIN_TEXTS and workers >= 1:
            self.executor = ProcessPoolExecutor(workers, mp_context=_pool_context())
        else:
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="redact")
        loop = asyncio.get_running_loop()
        self.futures = [
            loop.run_in_executor(
                self.executor, redact_many, [p[0] for p in b], [_names(p[1]) for p in b]
            )
            for b in self.batches
        ]

    async def ready_for(self, chunk: int) -> None:
        """Waits until the answers of chunk number `chunk` are redacted."""
        batches = -(-self.needed[chunk] // REDACTION_BATCH)
        while len(self.results) < batches:
            redacted = await self.futures[len(self.results)]
            self.results.append([r.text for r in redacted])

    def redacted(self, answer: int) -> str:
        index = self.positions[answer]
        return self.results[index // REDACTION_BATCH][index % REDACTION_BATCH]

    def close(self) -> None:
        for future in self.futures:
            future.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)


def _respondent_rows(prepared: Prepared, ids: list[str], consultation_id: str) -> str:
    lines = []
    for i in range(prepared.count):
        lines.append(
            "\t".join(
                (
                    ids[i],
                    consultation_id,
                    prepared.kind[i],
                    _copy_text(prepared.name[i]),
                    _copy_text(prepared.organisation_name[i]),
                    _copy_text(prepared.organisation_type[i]),
                    _copy_text(prepared.region[i]),
                    _copy_text(prepared.email[i]),
                    prepared.consent[i],
                    prepared.channel[i],
                    _copy_text(prepared.attributes[i]),
                )
            )
        )
    lines.append("")
    return "\n".join(lines)


def _response_rows(
    prepared: Prepared,
    ids: list[str],
    respondent_ids: list[str],
    codes: list[str],
    consultation_id: str,
    import_id: str,
    now: str,
) -> str:
    received = ResponseStatus.received.value
    lines = []
    for i in range(prepared.count):
        lines.append(
            "\t".join(
                (
                    ids[i],
                    consultation_id,
                    respondent_ids[i],
                    codes[i],
                    prepared.submitted_at[i] or now,
                    received,
                    prepared.channel[i],
                    _copy_text(prepared.external_id[i]),
                    import_id,
                )
            )
        )
    lines.append("")
    return "\n".join(lines)


def _answer_chunk(
    prepared: Prepared,
    response_ids: list[str],
    start_row: int,
    end_row: int,
    redactor: _Redactor,
    timings: dict[str, float],
) -> bytes:
    """COPY text for the answers of rows [start_row, end_row) (their redaction is done)."""
    started = time.perf_counter()
    first, last = prepared.answer_starts[start_row], prepared.answer_starts[end_row]
    rows = prepared.answer_rows
    texts = prepared.answer_texts
    options = prepared.answer_options
    questions = prepared.answer_questions
    ids = time_ordered_ids(last - first)
    question_text = {q: str(q) for q in set(questions[first:last])}
    redacted = redactor.redacted
    lines = []
    for k in range(first, last):
        t = texts[k]
        if t is None:
            text_field = redacted_field = NULL
            opts = _copy_text(_array_literal(options[k]))
        else:
            text_field = _copy_text(t)
            r = redacted(k)
            redacted_field = text_field if r == t else _copy_text(r)
            opts = "{}"
        lines.append(
            f"{ids[k - first]}\t{response_ids[rows[k]]}\t{question_text[questions[k]]}\t"
            f"{text_field}\t{redacted_field}\t{opts}"
        )
    lines.append("")
    data = "\n".join(lines).encode()
    _lap(timings, "format_answers", started)
    return data


RESPONDENT_COLUMNS = (
    "id, consultation_id, kind, name, organisation_name, organisation_type, region, email, "
    "publication_consent, channel, attributes"
)
RESPONSE_COLUMNS = (
    "id, consultation_id, respondent_id, receipt_code, submitted_at, status, channel, "
    "external_id, import_id"
)
ANSWER_COLUMNS = "id, response_id, question_id, text, redacted_text, options"


async def _write(
    session: AsyncSession,
    *,
    consultation_id: uuid.UUID,
    user: User | None,
    filename: str,
    table: SourceTable,
    prepared: Prepared,
    progress: Progress | None,
    timings: dict[str, float],
) -> uuid.UUID:
    import psycopg

    import_id = uuid.UUID(time_ordered_ids(1)[0])
    now = datetime.now(UTC)
    await session.execute(
        insert(Import).values(
            id=import_id,
            consultation_id=consultation_id,
            filename=filename[:500],
            file_format=table.format,
            content_sha256=table.content_sha256,
            response_count=prepared.count,
            answer_count=len(prepared.answer_rows),
            created_by=user.id if user is not None else None,
            completed_at=now,
        )
    )
    await session.flush()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    aconn = raw.driver_connection
    assert aconn is not None

    def heads() -> tuple[list[str], list[str], bytes, bytes]:
        respondent_ids = time_ordered_ids(prepared.count)
        response_ids = time_ordered_ids(prepared.count)
        codes = receipt_codes(prepared.count)
        cid = str(consultation_id)
        respondents = _respondent_rows(prepared, respondent_ids, cid).encode()
        responses = _response_rows(
            prepared, response_ids, respondent_ids, codes, cid, str(import_id), now.isoformat()
        ).encode()
        return respondent_ids, response_ids, respondents, responses

    known = await session.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = 'responses'::regclass")
    )
    analyse = prepared.count >= ANALYZE_MIN_ROWS and prepared.count > (known or 0)
    clock = time.perf_counter()
    bounds = [*range(0, prepared.count, CHUNK_ROWS), prepared.count]
    redactor = _Redactor(prepared, bounds)
    clock = _lap(timings, "plan_redaction", clock)
    _, response_ids, respondents, responses = await asyncio.to_thread(heads)
    clock = _lap(timings, "format_respondents", clock)

    async def chunk(k: int) -> bytes:
        waited = time.perf_counter()
        await redactor.ready_for(k)
        _lap(timings, "redaction_wait", waited)
        return await asyncio.to_thread(
            _answer_chunk, prepared, response_ids, bounds[k], bounds[k + 1], redactor, timings
        )

    pending: asyncio.Task[bytes] | None = None
    try:
        async with aconn.cursor() as cursor:
            async with cursor.copy(f"COPY respondents ({RESPONDENT_COLUMNS}) FROM STDIN") as copy:
                await copy.write(respondents)
            clock = _lap(timings, "copy_respondents", clock)
            async with cursor.copy(f"COPY responses ({RESPONSE_COLUMNS}) FROM STDIN") as copy:
                await copy.write(responses)
            clock = _lap(timings, "copy_responses", clock)
            if analyse:
                # The count trigger on answers (migration 0007) joins the new answers with
                # responses and respondents. When this import is most of those tables (the
                # first large import into a database), their statistics still say "empty"
                # and the planner picks a nested loop that rescans the spilled set of new
                # answers once per response: a 100,000-row import ran for more than 8
                # minutes instead of seconds. ANALYZE counts this transaction's own rows.
                await cursor.execute("ANALYZE respondents, responses")
                clock = _lap(timings, "analyze", clock)
            async with cursor.copy(f"COPY answers ({ANSWER_COLUMNS}) FROM STDIN") as copy:
                # Chunk k+1 is formatted (in a thread) while chunk k is sent and stored.
                pending = asyncio.create_task(chunk(0)) if len(bounds) > 1 else None
                for k in range(1, len(bounds)):
                    assert pending is not None
                    data = await pending
                    pending = asyncio.create_task(chunk(k)) if k + 1 < len(bounds) else None
                    waited = time.perf_counter()
                    await copy.write(data)
                    _lap(timings, "copy_answers_send", waited)
                    if progress is not None:
                        progress("written", bounds[k], prepared.count)
                waited = time.perf_counter()
            _lap(timings, "copy_answers_finish", waited)
            _lap(timings, "copy_answers", clock)
    except psycopg.errors.UniqueViolation as exc:
        constraint = exc.diag.constraint_name or ""
        if "external_id" in constraint:
            raise Conflict(
                "Another import stored some of these response ids at the same time; nothing was "
                "stored from this file. Run it again to see which ids."
            ) from None
        raise
    finally:
        if pending is not None:
            pending.cancel()
        redactor.close()
    return import_id
