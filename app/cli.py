"""The `consult` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.embedded import EmbeddedPostgres
from app.enums import Role

app = typer.Typer(
    help="Consult: responses to public consultations, coded and audited.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: its hash chain, its export.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


@contextmanager
def database() -> Iterator[str]:
    """DATABASE_URL if set; otherwise the embedded PostgreSQL, stopped again on exit."""
    settings = get_settings()
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(Path(settings.data_dir))
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()


def run_in_session(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one transaction, committed when it returns (the CLI's unit of work)."""
    from app.db import make_engine, make_sessionmaker

    async def main() -> T:
        engine = make_engine(url, pool_size=2)
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def fail(message: str) -> None:
    err_console.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(code=1)


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Load the demo consultation (once) before serving.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run one job worker in this process (default: on the embedded database).",
        ),
    ] = None,
) -> None:
    """Run the web service (upgrading the database first)."""
    import uvicorn

    from app import migrate

    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with database() as url:
        migrate.upgrade(url)
        if demo:
            _load_demo(url)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        bind_host, bind_port = host or settings.host, port or settings.port
        console.print(f"Consult is running on http://{bind_host}:{bind_port}/  (API docs at /docs)")
        # uvicorn shuts down gracefully on Ctrl-C or SIGTERM, then re-raises the signal; turning
        # SIGTERM into SystemExit lets database() stop the embedded server on the way out.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        in_process = _start_worker(url) if _wants_worker(worker, settings) else None
        try:
            uvicorn.run(
                "app.main:create_app",
                factory=True,
                host=bind_host,
                port=bind_port,
                log_level="info",
            )
        finally:
            if in_process is not None:
                in_process.stop()


@app.command()
def demo() -> None:
    """Load the demo consultation into the database (idempotent)."""
    from app import migrate

    with database() as url:
        migrate.upgrade(url)
        _load_demo(url)


def _load_demo(url: str) -> None:
    from app.demo.loader import load_demo

    summary = run_in_session(url, lambda session: load_demo(session))
    console.print(summary)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    from app import migrate

    with database() as url:
        migrate.upgrade(url, revision)
        console.print(f"Database upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert the migrations down to REVISION ('base' removes everything)."""
    from app import migrate

    with database() as url:
        migrate.downgrade(url, revision)
        console.print(f"Database downgraded to {revision}.")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The user's email address.")],
    role: Annotated[Role, typer.Option(help="admin, analyst or reviewer.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    member: Annotated[
        list[str] | None, typer.Option(help="Consultation slug to join (repeatable).")
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password for the pages.")
    ] = False,
) -> None:
    """Create a user and print an API token (shown once)."""
    from app import migrate
    from app.consultations.service import add_member
    from app.errors import ConsultError
    from app.users.service import create_user

    secret = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )

    async def work(session: AsyncSession) -> str:
        user, token = await create_user(session, email=email, role=role, name=name, password=secret)
        for slug in member or []:
            await add_member(session, slug=slug, email=user.email)
        return token

    with database() as url:
        migrate.upgrade(url)
        try:
            token = run_in_session(url, work)
        except ConsultError as exc:
            fail(exc.message)
    console.print(f"Created {role.value} {email}. API token (shown once, store it safely):")
    print(token)


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        list[str] | None,
        typer.Option(
            "--expect-head",
            metavar="SEQ:HASH",
            help="A head published earlier: fail unless the chain still extends it.",
        ),
    ] = None,
    anchor: Annotated[
        Path | None,
        typer.Option(
            help="A file of published heads (one SEQ:HASH per line): check every one, then "
            "append the current head. Keep it (or its lines) outside the database."
        ),
    ] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first bad event, or a
    published head the chain no longer extends (truncated or rewritten)."""
    from datetime import UTC, datetime

    from app import migrate
    from app.audit.service import Head, chain_head, check_extends, parse_head, verify_chain

    heads: list[tuple[str, str]] = [(value, "--expect-head") for value in expect_head or []]
    if anchor is not None and anchor.exists():
        for n, line in enumerate(anchor.read_text().splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                heads.append((line.split()[0], f"{anchor} line {n}"))
    expected: list[tuple[int, str, str]] = []
    for value, source in heads:
        try:
            expected.append((*parse_head(value), source))
        except ValueError as exc:
            fail(f"{source}: {exc}")

    async def work(session: AsyncSession) -> tuple[Any, list[str], Head | None]:
        result = await verify_chain(session)
        problems = []
        for seq, digest, source in expected:
            reason = await check_extends(session, seq=seq, digest=digest)
            if reason:
                problems.append(
                    f"The log no longer extends the head {seq}:{digest} ({source}): {reason}."
                )
        return result, problems, await chain_head(session)

    with database() as url:
        migrate.upgrade(url)
        result, problems, head = run_in_session(url, work)
    if not result.ok:
        fail(
            f"The audit log does not verify: event seq {result.first_bad_seq} "
            f"(id {result.first_bad_id}): {result.reason}. "
            f"{result.events_checked} events checked."
        )
    if problems:
        fail(" ".join(problems))
    console.print(
        f"The audit log verifies: {result.events_checked} events, "
        f"head seq {result.last_seq} hash {result.last_hash}."
    )
    if expected:
        console.print(f"It extends {len(expected)} published head(s).")
    if anchor is not None and head is not None:
        lines = anchor.read_text().splitlines() if anchor.exists() else []
        last = lines[-1].split()[0] if lines and lines[-1].strip() else None
        if last != str(head):
            with anchor.open("a") as out:
                out.write(f"{head} {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        console.print(f"Head {head} anchored in {anchor}: publish it outside the database.")


@audit_app.command("export")
def audit_export(
    consultation: Annotated[
        str | None, typer.Option(help="Only this consultation's events (its slug).")
    ] = None,
) -> None:
    """Write the audit log to stdout as JSONL (one event per line, in chain order)."""
    import sys

    from app import migrate
    from app.audit.service import consultation_id_for, export_lines
    from app.errors import ConsultError

    async def work(session: AsyncSession) -> int:
        consultation_id = (
            await consultation_id_for(session, slug=consultation) if consultation else None
        )
        count = 0
        async for line in export_lines(session, consultation_id=consultation_id):
            sys.stdout.write(line)
            count += 1
        sys.stdout.flush()
        return count

    with database() as url:
        migrate.upgrade(url)
        try:
            count = run_in_session(url, work)
        except ConsultError as exc:
            fail(exc.message)
    err_console.print(f"Exported {count} events.")


@audit_app.command("sample")
def audit_sample(
    consultation: Annotated[str, typer.Argument(help="The consultation's slug.")],
    proposal: Annotated[int, typer.Option(help="Proposal number (1 = first).")] = 1,
    size: Annotated[int | None, typer.Option(help="Number of answers.")] = None,
    margin: Annotated[
        float | None, typer.Option(help="Target margin of error instead of a size.")
    ] = None,
    stratify_by: Annotated[
        str | None, typer.Option(help="theme, respondent_kind or confidence_band.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Default: random (stored).")] = None,
    by: Annotated[str | None, typer.Option("--as", help="Draw as this user (email).")] = None,
) -> None:
    """Draw a reproducible audit sample of a proposal's coded answers (audit-logged)."""
    from pydantic import ValidationError

    from app import migrate
    from app.errors import ConsultError
    from app.samples.cli import draw, summary

    body: dict[str, Any] = {"size": size, "margin": margin, "seed": seed}
    if stratify_by:
        body |= {"design": "stratified", "stratify_by": stratify_by}
    body = {k: v for k, v in body.items() if v is not None}
    with database() as url:
        migrate.upgrade(url)
        try:
            sample = run_in_session(
                url,
                lambda s: draw(s, slug=consultation, proposal=proposal, body=body, email=by),
            )
        except ValidationError as exc:
            fail("; ".join(e["msg"] for e in exc.errors()))
        except ConsultError as exc:
            fail(exc.message)
    typer.echo(summary(sample))


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="CSV, XLSX, JSONL file, or a Consult/ThemeFinder folder.")
    ],
    consultation: Annotated[str, typer.Option(help="Slug of the consultation to import into.")],
    mapping: Annotated[
        Path | None, typer.Option(help="JSON file mapping column names to question numbers.")
    ] = None,
) -> None:
    """Import responses from a file: all rows or none."""
    from app import migrate
    from app.errors import ConsultError
    from app.imports.cli import run_import

    if not file.exists():
        fail(f"{file} does not exist.")
    with database() as url:
        migrate.upgrade(url)
        try:
            result: Any = run_import(
                url, file=file, slug=consultation, mapping_file=mapping, console=console
            )
        except ConsultError as exc:
            details = "".join(f"\n  {f.get('message')}" for f in exc.fields)
            fail(f"{exc.message}{details}")
    console.print(result)


@app.command("report")
def report_command(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
) -> None:
    """Write the consultation's report as one static HTML file (a preview until published)."""
    from app import migrate
    from app.errors import ConsultError
    from app.reports.cli import run_report

    with database() as url:
        migrate.upgrade(url)
        try:
            summary = run_report(url, slug=consultation, out=out)
        except ConsultError as exc:
            fail(exc.message)
    console.print(summary)


@app.command("export")
def export_command(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
    format: Annotated[
        str, typer.Option("--format", help="csv, xlsx, jsonl, themefinder or open-data.")
    ],
    out: Annotated[
        Path,
        typer.Option(help="File to write (themefinder: a folder, or a .zip file)."),
    ],
    proposal: Annotated[
        str | None, typer.Option(help="Only this proposal's answers (its id).")
    ] = None,
) -> None:
    """Export a consultation's answers with their codes (redacted text, no personal data)."""
    from app import migrate
    from app.errors import ConsultError
    from app.exports.cli import run_export

    with database() as url:
        migrate.upgrade(url)
        try:
            summary = run_export(url, slug=consultation, fmt=format, out=out, proposal=proposal)
        except ConsultError as exc:
            fail(exc.message)
    console.print(summary)


@app.command("benchmark")
def benchmark_command(
    dataset: Annotated[
        Path, typer.Argument(help="A dataset in the Consult/ThemeFinder evaluation layout.")
    ],
    seed_fraction: Annotated[
        float, typer.Option(help="Share of each part's gold codes given as human codings.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sample and the models.")] = 0,
    predictions: Annotated[
        Path | None, typer.Option(help="Write the predicted codes here (JSON lines).")
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option(min=100, help="Answers per chunk (default 10,000).")
    ] = None,
) -> None:
    """Load DATASET into a fresh database, code it from a seed sample, print JSON metrics."""
    import json

    from app.benchmark.service import BenchmarkError, benchmark

    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    with database() as url:
        try:
            result = benchmark(
                dataset,
                server_url=url,
                seed_fraction=seed_fraction,
                seed=seed,
                predictions=predictions,
                chunk_size=chunk_size,
            )
        except BenchmarkError as exc:
            fail(str(exc))
    print(json.dumps(result, indent=2))


# --------------------------------------------------------------------------------------
# Job workers and analysis runs
# --------------------------------------------------------------------------------------

analyse_app = typer.Typer(help="Analysis runs (queued as jobs; progress shown).")
app.add_typer(analyse_app, name="analyse")


def _wants_worker(flag: bool | None, settings: Any) -> bool:
    """`serve` runs a worker on the embedded database unless --no-worker; with DATABASE_URL
    (as set before serve started) only with --worker: workers are then `consult worker`."""
    return flag if flag is not None else not settings.database_url


def _start_worker(url: str) -> Any:
    from app.jobs.worker import InProcessWorker

    console.print("Running one job worker in this process.")
    return InProcessWorker(url).start()


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs this worker runs at once (chunks are async).")
    ] = 1,
) -> None:
    """Run a job worker until Ctrl-C or SIGTERM (start as many as you like, anywhere)."""
    from app import migrate
    from app.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with database() as url:
        migrate.upgrade(url)
        console.print(f"Job worker running (concurrency {concurrency}); Ctrl-C stops it.")
        # procrastinate turns SIGINT/SIGTERM into a graceful stop; then database() cleans up.
        asyncio.run(run_worker(url, concurrency=concurrency))


@analyse_app.command("redact")
def analyse_redact(
    consultation: Annotated[str, typer.Option(help="Slug of the consultation.")],
    chunk_size: Annotated[
        int | None, typer.Option(min=100, help="Answers per job (default 10,000).")
    ] = None,
) -> None:
    """Recompute every answer's redacted text (after the redactor improved)."""
    _analyse(consultation, "redact", chunk_size)


@analyse_app.command("dedupe")
def analyse_dedupe(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
) -> None:
    """Find organised text campaigns (near-identical responses) and link their responses;
    replaces the previous run's campaigns. One job: campaigns span the whole consultation."""
    _analyse(consultation, "dedupe", None)


@analyse_app.command("discover")
def analyse_discover(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
    proposal: Annotated[str, typer.Option(help="The proposal: its number (1, 2, ...) or id.")],
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the topic model.")] = 0,
    themes: Annotated[str, typer.Option(help="Number of candidate themes, or 'auto'.")] = "auto",
) -> None:
    """Suggest candidate themes for the proposal's answers (top terms, draft label); accept
    them on the codeframe page or with POST .../codeframes/from-suggestions."""
    from app.discovery.cli import analyse_discover as run

    run(consultation, proposal, seed=seed, n_themes=themes)


def _proposal_run(
    kind: str, consultation: str, proposal: str, seed: int, parameter: list[str], chunk: int | None
) -> None:
    import json

    from app.coding.cli import analyse_proposal

    parameters: dict[str, Any] = {}
    for item in parameter:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--parameter takes NAME=VALUE, got {item!r}.")
        try:
            parameters[name] = json.loads(value)
        except json.JSONDecodeError:
            parameters[name] = value
    analyse_proposal(
        consultation, proposal, kind, seed=seed, parameters=parameters, chunk_size=chunk
    )


@analyse_app.command("code")
def analyse_code(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
    proposal: Annotated[str, typer.Option(help="The proposal: its number (1, 2, ...) or id.")],
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the model.")] = 0,
    parameter: Annotated[
        list[str], typer.Option(help="A coder parameter NAME=VALUE (repeatable).")
    ] = [],  # noqa: B006
    chunk_size: Annotated[
        int | None, typer.Option(min=100, help="Answers per job (default 10,000).")
    ] = None,
) -> None:
    """Code the proposal's answers against its published codeframe, learning from the
    analysts' codings (never overriding them)."""
    _proposal_run("code", consultation, proposal, seed, parameter, chunk_size)


@analyse_app.command("stance")
def analyse_stance(
    consultation: Annotated[str, typer.Argument(help="Slug of the consultation.")],
    proposal: Annotated[str, typer.Option(help="The proposal: its number (1, 2, ...) or id.")],
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the model.")] = 0,
    chunk_size: Annotated[
        int | None, typer.Option(min=100, help="Responses per job (default 10,000).")
    ] = None,
) -> None:
    """Each response's stance on the proposal: the stance question where answered, else
    predicted from the text (never overriding an analyst's stance)."""
    _proposal_run("stance", consultation, proposal, seed, [], chunk_size)


def _analyse(slug: str, kind: str, chunk_size: int | None) -> None:

    from app import migrate
    from app.errors import ConsultError
    from app.jobs import service
    from app.jobs.worker import make_app

    async def create(session: AsyncSession) -> Any:
        found = await service.consultation_for_analysis(session, slug=slug, user=None)
        return await service.create_run(
            session,
            queue=make_app(url),
            consultation=found,
            kind=kind,
            user=None,
            chunk_size=chunk_size,
        )

    with database() as url:
        migrate.upgrade(url)
        try:
            run = run_in_session(url, create)
        except ConsultError as exc:
            fail(exc.message)
        console.print(f"Run {run.id} queued: {run.progress_total} answers, {run.chunk_count} jobs.")
        run = follow_run(url, run, kind)
    console.print(f"Run {run.id} succeeded: {run.metrics}")


def follow_run(url: str, run: Any, label: str) -> Any:
    """Shows the run's progress until it ends, running a worker in-process when none is
    live (on the embedded database or DATABASE_URL alike: otherwise nothing would take the
    jobs), and returns the finished run; a failed run is a CLI error naming how to retry it."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from app.jobs import service
    from app.jobs.worker import live_workers

    async def fetch(session: AsyncSession) -> Any:
        return await service.get_run(session, run_id=run.id, user=None)

    in_process = None
    if asyncio.run(live_workers(url)) == 0:
        console.print("No `consult worker` is live.")
        in_process = _start_worker(url)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(f"{label} ({run.status.value})", total=run.progress_total or 1)
            while True:
                run = run_in_session(url, fetch)
                bar.update(
                    task,
                    completed=run.progress_done,
                    total=run.progress_total or 1,
                    description=f"{label} ({run.status.value})",
                )
                if run.status.value in ("succeeded", "failed"):
                    break
                if in_process is not None and not in_process.alive:
                    fail(
                        f"The in-process worker stopped before run {run.id} ended; "
                        "start one with `consult worker` to finish it."
                    )
                time.sleep(0.5)
    finally:
        if in_process is not None:
            in_process.stop()
    if run.status.value == "failed":
        fail(f"Run {run.id} failed: {run.error}. Retry it: POST /api/v1/jobs/{run.id}/retry")
    return run


if __name__ == "__main__":
    app()
