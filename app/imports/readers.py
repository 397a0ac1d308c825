"""Readers: turn an uploaded file into one table of responses (one row per response).

Every reader returns a :class:`SourceTable`: column names, rows of raw cell values and,
for each row, where it is in the file, so that a problem can be reported as "row 12 (line 13
of the CSV file), column 'Q2'". Nothing here knows about the consultation; matching columns
to questions and validating the values is `app.imports.service`'s job.

Formats:

* ``csv``: UTF-8 (a byte-order mark is dropped), comma separated (or semicolons or tabs when
  the header line has no comma), first line the header.
  Quoted cells may span lines; rows are numbered as data rows (the first row after the
  header is row 1) and the message also gives the line where the row starts.
* ``xlsx``: the first worksheet; row 1 is the header, row 2 is data row 1.
* ``jsonl``: one JSON object per line; keys are the columns. Multi-choice answers may be
  JSON lists; an ``attributes`` or ``demographic_data`` object goes to the respondent's
  attributes. Data row N is line N.
* ``themefinder``: the Consult/ThemeFinder evaluation layout, a folder (or a zip of it)
  with ``inputs/question_part_N/{question.json,responses.jsonl}`` and optionally
  ``inputs/respondents.jsonl``. It becomes one row per ``response_id`` with a column
  ``question_part_N`` per part and the respondents' ``demographic_data`` as attributes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from app.errors import ImportFailed, field_error

FORMATS = ("csv", "xlsx", "jsonl", "themefinder")
EXTENSIONS = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".zip": "themefinder",
}
# The column of a ThemeFinder table that carries each respondent's demographic data.
ATTRIBUTES_COLUMN = "demographic_data"
# JSONL keys whose object value goes to the respondent's attributes.
ATTRIBUTE_KEYS = ("attributes", "demographic_data")
# Reading stops with an error beyond this many rows (a safety net for the API; the CLI too).
MAX_ROWS = 2_000_000
PART_RE = re.compile(r"^question_part_(\d+)$")


def _fail(
    message: str, loc: list[str | int] | None = None, type_: str = "unreadable"
) -> ImportFailed:
    detail = f"The file could not be read: {message}"
    return _rejected(detail, loc or ["file"], type_)


def _rejected(message: str, loc: list[str | int], type_: str) -> ImportFailed:
    return ImportFailed(
        f"The import was rejected; nothing was stored. {message}",
        fields=[field_error(loc, message, type_)],
    )


@dataclass
class SourceTable:
    """Rows of cells under named columns, plus where each row came from."""

    format: str
    columns: list[str]
    rows: list[list[Any]]
    # Per row: the 1-based data row number (as the user counts rows in the file).
    row_numbers: list[int]
    # Per row: where it is, in words ("line 13", "spreadsheet row 13").
    describe_row: Callable[[int, str], str]
    content_sha256: str
    # For ThemeFinder: question_part column -> its question number from question.json.
    part_numbers: dict[str, str] = field(default_factory=dict)
    # For ThemeFinder: the location of each cell, which is per file.
    cell_locations: dict[tuple[int, str], tuple[list[str | int], str]] = field(default_factory=dict)

    def locate(self, index: int, column: str) -> tuple[list[str | int], str]:
        """(loc for the error body, human description) of one cell."""
        found = self.cell_locations.get((index, column))
        if found is not None:
            return found
        number = self.row_numbers[index]
        return ["row", number, "column", column], self.describe_row(index, column)


def detect_format(filename: str, explicit: str | None = None) -> str:
    if explicit:
        fmt = explicit.strip().lower()
        if fmt not in FORMATS:
            raise _fail(
                f"unknown format '{explicit}'; use one of {', '.join(FORMATS)}.",
                ["format"],
                "unknown_format",
            )
        return fmt
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    raise _fail(
        f"cannot tell the format of '{filename}' from its extension; use .csv, .xlsx, .jsonl, "
        "a .zip of the ThemeFinder layout, or name the format.",
        ["format"],
        "unknown_format",
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            f"the {what} is not UTF-8 (byte {exc.start}); save it as UTF-8 and try again.",
            type_="encoding",
        ) from None


def _header(raw: list[Any], what: str) -> list[str]:
    columns = ["" if c is None else str(c).strip() for c in raw]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise _fail(f"the {what} has no header row.", type_="no_header")
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            raise _fail(
                f"column {position} of the header has no name.", ["column", position], "no_header"
            )
        if name in seen:
            raise _fail(
                f"the header names column '{name}' twice.", ["column", name], "duplicate_column"
            )
        seen.add(name)
    return columns


def _delimiter(text: str) -> str:
    """Comma, unless the header line has none and uses semicolons (spreadsheets in some
    locales save CSV that way) or tabs."""
    header = text[: text.find("\n")] if "\n" in text else text
    if "," in header:
        return ","
    return max((";", "\t"), key=header.count) if (";" in header or "\t" in header) else ","


def read_csv(data: bytes) -> SourceTable:
    text = _decode(data, "CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        columns = _header(next(reader, []), "CSV file")
        width = len(columns)
        rows: list[list[Any]] = []
        numbers: list[int] = []
        lines: list[int] = []
        append, number_append, line_append = rows.append, numbers.append, lines.append
        start = reader.line_num + 1
        for number, row in enumerate(reader, start=1):
            if any(row):
                if len(row) > width and any(row[width:]):
                    raise _fail(
                        f"row {number} (line {start}) has {len(row)} cells but the header "
                        f"has {width}.",
                        ["row", number],
                        "extra_cells",
                    )
                append(row)
                number_append(number)
                line_append(start)
            start = reader.line_num + 1
            if number > MAX_ROWS:
                raise _fail(f"more than {MAX_ROWS} rows; split the file.", type_="too_many_rows")
    except csv.Error as exc:
        raise _fail(
            f"line {reader.line_num}: {exc}.", ["line", reader.line_num], "csv_syntax"
        ) from None

    def describe(index: int, column: str) -> str:
        return f"row {numbers[index]} (line {lines[index]}), column '{column}'"

    return SourceTable("csv", columns, rows, numbers, describe, sha256(data))


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------


def read_xlsx(data: bytes) -> SourceTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign file
        raise _fail(
            f"not a readable .xlsx workbook ({type(exc).__name__}).", type_="xlsx"
        ) from None
    try:
        if not book.worksheets:
            raise _fail("the workbook has no worksheet.", type_="xlsx")
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        columns = _header(list(next(cells, ())), "worksheet")
        width = len(columns)
        rows: list[list[Any]] = []
        numbers: list[int] = []
        for number, values in enumerate(cells, start=1):
            row = list(values)
            if not any(v is not None and str(v).strip() for v in row):
                continue
            if len(row) > width and any(v is not None and str(v).strip() for v in row[width:]):
                raise _fail(
                    f"row {number} (spreadsheet row {number + 1}) has cells beyond the header.",
                    ["row", number],
                    "extra_cells",
                )
            rows.append(row)
            numbers.append(number)
            if number > MAX_ROWS:
                raise _fail(f"more than {MAX_ROWS} rows; split the file.", type_="too_many_rows")
    finally:
        book.close()

    def describe(index: int, column: str) -> str:
        return f"row {numbers[index]} (spreadsheet row {numbers[index] + 1}), column '{column}'"

    return SourceTable("xlsx", columns, rows, numbers, describe, sha256(data))


# --------------------------------------------------------------------------------------
# JSONL
# --------------------------------------------------------------------------------------


def _jsonl_objects(text: str, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(
                f"{what} line {line_number} is not valid JSON ({exc.msg}).",
                ["row", line_number],
                "json_syntax",
            ) from None
        if not isinstance(value, dict):
            raise _fail(
                f"{what} line {line_number} is not a JSON object.",
                ["row", line_number],
                "json_syntax",
            )
        if line_number > MAX_ROWS:
            raise _fail(f"more than {MAX_ROWS} rows; split the file.", type_="too_many_rows")
        yield line_number, value


def read_jsonl(data: bytes) -> SourceTable:
    text = _decode(data, "JSONL file")
    index_of: dict[str, int] = {}
    columns: list[str] = []
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for line_number, value in _jsonl_objects(text, "JSONL"):
        for key in value:
            if key not in index_of:
                index_of[key] = len(columns)
                columns.append(key)
        records.append(value)
        numbers.append(line_number)
    if not columns:
        raise _fail("the JSONL file has no records.", type_="empty")
    rows = [[record.get(c) for c in columns] for record in records]

    def describe(index: int, column: str) -> str:
        return f"row {numbers[index]} (line {numbers[index]}), key '{column}'"

    return SourceTable("jsonl", columns, rows, numbers, describe, sha256(data))


# --------------------------------------------------------------------------------------
# ThemeFinder layout
# --------------------------------------------------------------------------------------


class _Folder:
    """Files of the layout, from a directory or a zip (the inputs/ folder may be nested)."""

    def __init__(self, files: dict[str, bytes]):
        inputs = sorted(
            {p[: p.index("inputs/") + len("inputs/")] for p in files if "inputs/" in p}, key=len
        )
        if not inputs:
            raise _fail(
                "no inputs/ folder: expected inputs/question_part_N/responses.jsonl.",
                type_="layout",
            )
        self.root = inputs[0]
        self.files = {
            p[len(self.root) :]: data for p, data in files.items() if p.startswith(self.root)
        }

    @classmethod
    def from_directory(cls, path: Path) -> _Folder:
        # The dataset folder, or its inputs/ folder itself.
        base = path.parent if path.name == "inputs" else path
        inputs = base / "inputs"
        if not inputs.is_dir():
            raise _fail(f"{path} has no inputs/ folder.", type_="layout")
        files = {
            p.relative_to(base).as_posix(): p.read_bytes()
            for p in sorted(inputs.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".jsonl")
        }
        return cls(files)

    @classmethod
    def from_zip(cls, data: bytes) -> _Folder:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise _fail("not a readable zip file.", type_="zip") from None
        files: dict[str, bytes] = {}
        total = 0
        with archive:
            for info in archive.infolist():
                name = info.filename
                if info.is_dir() or "inputs/" not in name or "__MACOSX" in name:
                    continue
                if name.startswith("/") or ".." in PurePosixPath(name).parts:
                    raise _fail(f"unsafe path in the zip: {name}", type_="zip")
                total += info.file_size
                if total > 2_000_000_000:
                    raise _fail("the zip expands to more than 2 GB.", type_="zip")
                files[name] = archive.read(info)
        return cls(files)

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


def _response_id(value: Any, where: str, loc: list[str | int]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise _rejected(
            f"{where}: response_id is missing or not a string or integer.", loc, "invalid_id"
        )
    return str(value).strip()


def read_themefinder(folder: _Folder) -> SourceTable:
    parts: list[str] = []
    for name in folder.files:
        pieces = name.split("/")
        if len(pieces) == 2 and pieces[1] == "responses.jsonl" and PART_RE.match(pieces[0]):
            parts.append(pieces[0])
    if not parts:
        raise _fail("no inputs/question_part_N/responses.jsonl files.", type_="layout")
    ordered = sorted(parts, key=lambda c: int(PART_RE.match(c).group(1)))  # type: ignore[union-attr]

    # question_part_N answers the consultation's question number N (unless a mapping says
    # otherwise); question.json is not needed for that.
    part_numbers = {column: PART_RE.match(column).group(1) for column in ordered}  # type: ignore[union-attr]

    rows_by_id: dict[str, int] = {}
    rows: list[list[Any]] = []
    first_location: list[tuple[list[str | int], str]] = []
    locations: dict[tuple[int, str], tuple[list[str | int], str]] = {}
    columns = ["response_id", *ordered, ATTRIBUTES_COLUMN]
    width = len(columns)

    def row_for(rid: str, loc: list[str | int], where: str) -> int:
        index = rows_by_id.get(rid)
        if index is None:
            index = rows_by_id[rid] = len(rows)
            row: list[Any] = [None] * width
            row[0] = rid
            rows.append(row)
            first_location.append((loc, where))
        return index

    respondents = folder.files.get("respondents.jsonl")
    if respondents is not None:
        path = "inputs/respondents.jsonl"
        seen: set[str] = set()
        for line, record in _jsonl_objects(_decode(respondents, path), path):
            where = f"{path} line {line}"
            loc: list[str | int] = ["file", path, "row", line, "column", "response_id"]
            rid = _response_id(record.get("response_id"), where, loc)
            if rid in seen:
                raise _rejected(f"{where}: response_id {rid} appears twice.", loc, "duplicate_id")
            seen.add(rid)
            index = row_for(rid, loc, where)
            data = record.get("demographic_data")
            rows[index][width - 1] = data
            locations[(index, ATTRIBUTES_COLUMN)] = (
                ["file", path, "row", line, "column", ATTRIBUTES_COLUMN],
                f"{where}, field 'demographic_data'",
            )

    for position, column in enumerate(ordered, start=1):
        path = f"inputs/{column}/responses.jsonl"
        seen = set()
        for line, record in _jsonl_objects(
            _decode(folder.files[f"{column}/responses.jsonl"], path), path
        ):
            where = f"{path} line {line}"
            loc = ["file", path, "row", line, "column", "response_id"]
            rid = _response_id(record.get("response_id"), where, loc)
            if rid in seen:
                raise _rejected(f"{where}: response_id {rid} appears twice.", loc, "duplicate_id")
            seen.add(rid)
            index = row_for(rid, loc, where)
            rows[index][position] = record.get("response")
            locations[(index, column)] = (
                ["file", path, "row", line, "column", "response"],
                f"{where} (response_id {rid}), field 'response'",
            )

    numbers = list(range(1, len(rows) + 1))
    for index, (loc, where) in enumerate(first_location):
        locations[(index, "response_id")] = (loc, where)

    def describe(index: int, column: str) -> str:
        return f"response_id {rows[index][0]} ({first_location[index][1]}), '{column}'"

    return SourceTable(
        "themefinder",
        columns,
        rows,
        numbers,
        describe,
        folder.digest(),
        part_numbers=part_numbers,
        cell_locations=locations,
    )


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------

READERS: dict[str, Callable[[bytes], SourceTable]] = {
    "csv": read_csv,
    "xlsx": read_xlsx,
    "jsonl": read_jsonl,
    "themefinder": lambda data: read_themefinder(_Folder.from_zip(data)),
}


def read_bytes(data: bytes, fmt: str) -> SourceTable:
    """A table from the bytes of an upload (a ThemeFinder folder comes as a zip)."""
    return READERS[fmt](data)


def read_path(path: Path, fmt: str | None = None) -> SourceTable:
    """A table from a file, or from a ThemeFinder folder on disk."""
    if path.is_dir():
        if fmt not in (None, "themefinder"):
            raise _fail(
                f"{path} is a folder; only the ThemeFinder layout is read from a folder.",
                type_="layout",
            )
        return read_themefinder(_Folder.from_directory(path))
    return read_bytes(path.read_bytes(), detect_format(path.name, fmt))
