"""`consult import`: one file into one consultation, in one transaction, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.imports import service


def run_import(
    url: str,
    *,
    file: Path,
    slug: str,
    mapping_file: Path | None = None,
    console: Console | None = None,
) -> str:
    """Imports FILE (a CSV, XLSX or JSONL file, a ThemeFinder folder or its zip) into SLUG.

    Raises `ConsultError` (e.g. `ImportFailed` with the rows and columns at fault) and then
    stores nothing. Returns a one-line summary.
    """
    from app.cli import run_in_session

    mapping = service.parse_mapping(mapping_file.read_bytes()) if mapping_file else None
    bar = Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        size = total or None  # 0: still reading the file (an indeterminate bar)
        if stage not in tasks:
            tasks[stage] = bar.add_task("Parsed" if stage == "parsed" else "Written", total=size)
        bar.update(tasks[stage], completed=done, total=size)

    async def work(session: AsyncSession) -> service.ImportResult:
        return await service.import_responses(
            session,
            slug=slug,
            user=None,
            filename=file.name,
            path=file,
            mapping=mapping,
            max_answer_chars=get_settings().max_answer_chars,
            progress=progress,
        )

    with bar:
        result = run_in_session(url, work)
    return (
        f"Imported {result.responses} responses ({result.answers} answers) from {file.name} "
        f"({result.format}) into '{slug}'; import id {result.import_id}."
    )
