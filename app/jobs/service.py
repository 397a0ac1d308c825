"""Analysis runs: planning into chunks, enqueueing, progress, failure, retry, recovery.

State machine. A run is created `queued` with its chunks (answers ordered by id, cut every
`chunk_size` answers; chunk i covers lower_id <= id < upper_id) and one procrastinate job per
chunk, all in the caller's transaction: a run never exists without its jobs, nor jobs without
their run. A worker marks the chunk (and the run) `running`, then in ONE transaction locks the
chunk, writes its results, marks it `succeeded`, adds its count to the run's progress
(`progress_done = progress_done + n`, so workers sharing a run never lose an update) and, if no
chunk is left queued or running, finishes the run. A chunk already `succeeded` is skipped:
running a job twice writes and counts nothing twice. A failing chunk is marked `failed` and
fails the run with its error; the other chunks go on. `retry` re-queues only the chunks that
have not succeeded and have no live job. `recover` (worker start-up, then every minute)
re-queues jobs of dead workers and chunks left without a live job (e.g. aborted at shutdown).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.consultations.models import Consultation
from app.consultations.service import consultation_for_analyst, require_access
from app.enums import Role
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunKind, RunStatus
from app.users.models import User

if TYPE_CHECKING:
    from procrastinate import App

RUN_CHUNK_TASK = "consult.run_chunk"
DEFAULT_CHUNK_SIZE = 10_000
PACKAGES = ("consult", "scikit-learn", "numpy", "scipy", "spacy", "procrastinate")


# --------------------------------------------------------------------------------------
# Kinds: what a chunk does
# --------------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    """What a chunk handler reports: answers processed, hashes of inputs and outputs."""

    done: int
    data_hash: str
    output_hash: str
    metrics: dict[str, int | float] = field(default_factory=dict)


def item_hash(item_id: uuid.UUID, value: str | None) -> str:
    return hashlib.sha256(f"{item_id}\x1f{value}".encode()).hexdigest()


def combine_hashes(hashes: Iterable[str | None]) -> str:
    """A hash of a set of item hashes that does not depend on their order or grouping (their
    sum modulo 2**256): a run's data and output hashes are the same however it is chunked."""
    total = sum(int(h, 16) for h in hashes if h) % (1 << 256)
    return f"{total:064x}"


ChunkHandler = Callable[[AsyncSession, AnalysisRun, AnalysisRunChunk], Awaitable[ChunkResult]]
"""Does one chunk's work with `session` (inside the chunk's completing transaction: results
written there are committed together with the chunk's `succeeded` mark, or not at all)."""

HANDLERS: dict[str, ChunkHandler] = {}

Planner = Callable[
    [AsyncSession, uuid.UUID, uuid.UUID | None, int], Awaitable[tuple[int, list[uuid.UUID]]]
]
"""Plans a kind's run: (session, consultation_id, proposal_id, chunk_size) -> total items and
each chunk's first id (ordered by id; the handler reads lower_id <= id < upper_id)."""

PLANNERS: dict[str, Planner] = {}


def planner(kind: RunKind) -> Callable[[Planner], Planner]:
    """Registers how a kind cuts its input into chunks (default: the consultation's answers)."""

    def register(fn: Planner) -> Planner:
        PLANNERS[kind.value] = fn
        return fn

    return register


def handler(kind: RunKind) -> Callable[[ChunkHandler], ChunkHandler]:
    def register(fn: ChunkHandler) -> ChunkHandler:
        HANDLERS[kind.value] = fn
        return fn

    return register


@handler(RunKind.redact)
async def redact_chunk(
    session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk
) -> ChunkResult:
    """Recomputes `answers.redacted_text` for the chunk's answers (after the redactor changed).

    Only answers whose redaction differs are written; the write is idempotent anyway."""
    import asyncio

    from analysis.redaction import redact_many

    rows = (
        await session.execute(
            text(
                "SELECT a.id, a.text, a.redacted_text, p.name "
                "FROM answers a JOIN responses r ON r.id = a.response_id "
                "JOIN respondents p ON p.id = r.respondent_id "
                "WHERE r.consultation_id = :consultation_id AND a.text IS NOT NULL "
                "AND (CAST(:lower AS uuid) IS NULL OR a.id >= :lower) "
                "AND (CAST(:upper AS uuid) IS NULL OR a.id < :upper) ORDER BY a.id"
            ),
            {
                "consultation_id": run.consultation_id,
                "lower": chunk.lower_id,
                "upper": chunk.upper_id,
            },
        )
    ).all()
    texts = [row.text for row in rows]
    names = [(row.name,) if row.name else () for row in rows]
    # CPU-bound: off the event loop, so the worker's heartbeat and other jobs keep going.
    redactions = await asyncio.to_thread(redact_many, texts, names)
    new = [r.text for r in redactions]
    changed = [
        (row.id, red) for row, red in zip(rows, new, strict=True) if red != row.redacted_text
    ]
    if changed:
        await session.execute(
            text(
                "UPDATE answers AS a SET redacted_text = v.redacted "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:texts AS text[])) AS v(id, redacted) "
                "WHERE a.id = v.id"
            ),
            {"ids": [c[0] for c in changed], "texts": [c[1] for c in changed]},
        )
    return ChunkResult(
        done=len(rows),
        data_hash=combine_hashes(item_hash(row.id, row.text) for row in rows),
        output_hash=combine_hashes(
            item_hash(row.id, red) for row, red in zip(rows, new, strict=True)
        ),
        metrics={"answers": len(rows), "changed": len(changed)},
    )


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


async def consultation_for_analysis(
    session: AsyncSession, *, slug: str, user: User | None
) -> Consultation:
    """The consultation if `user` may start runs on it (admins, analyst members; None: CLI)."""
    return await consultation_for_analyst(session, slug=slug, user=user, action="start analyses")


async def get_run(
    session: AsyncSession, *, run_id: uuid.UUID, user: User | None, analyst: bool = False
) -> AnalysisRun:
    """The run if `user` may see it (members incl. reviewers) or, with `analyst`, act on it."""
    run = await session.get(AnalysisRun, run_id, populate_existing=True)
    if run is None:
        raise NotFound("No such job.")
    consultation = await session.get(Consultation, run.consultation_id)
    assert consultation is not None  # a foreign key
    await require_access(
        session,
        consultation=consultation,
        user=user,
        roles=(Role.analyst,) if analyst else (Role.analyst, Role.reviewer),
        action="retry its jobs" if analyst else "see its jobs",
        missing="No such job.",
    )
    return run


# --------------------------------------------------------------------------------------
# Creating and enqueueing
# --------------------------------------------------------------------------------------


def code_version() -> str:
    version = _version("consult") or "0"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{version}+{sha}" if sha else version


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        found = _version(package)
        if found:
            versions[package] = found
    return versions


async def _plan(
    session: AsyncSession, *, consultation_id: uuid.UUID, chunk_size: int
) -> tuple[int, list[uuid.UUID]]:
    """Total answers and each chunk's first answer id (ordered by id)."""
    rows = (
        await session.execute(
            text(
                "SELECT id, total FROM (SELECT a.id, row_number() OVER (ORDER BY a.id) - 1 AS n, "
                "count(*) OVER () AS total FROM answers a "
                "JOIN responses r ON r.id = a.response_id "
                "WHERE r.consultation_id = :consultation_id AND a.text IS NOT NULL) s "
                "WHERE n % :size = 0 ORDER BY id"
            ),
            {"consultation_id": consultation_id, "size": chunk_size},
        )
    ).all()
    total = int(rows[0].total) if rows else 0
    return total, [row.id for row in rows]


async def _driver_connection(session: AsyncSession) -> Any:
    """The psycopg connection under `session`, so jobs are deferred in its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _enqueue(
    session: AsyncSession, queue: App, run: AnalysisRun, chunks: list[AnalysisRunChunk]
) -> None:
    driver = await _driver_connection(session)
    for chunk in chunks:
        key = f"run:{run.id}:{chunk.index}"
        chunk.job_id = await queue.configure_task(
            RUN_CHUNK_TASK, lock=key, queueing_lock=key, connection=driver
        ).defer_async(run_id=str(run.id), chunk=chunk.index)
    await session.flush()


async def create_run(
    session: AsyncSession,
    *,
    queue: App,
    consultation: Consultation,
    kind: str,
    user: User | None,
    parameters: dict[str, Any] | None = None,
    chunk_size: int | None = None,
    seed: int = 0,
    proposal_id: uuid.UUID | None = None,
) -> AnalysisRun:
    if kind not in HANDLERS:
        message = f"Unknown kind '{kind}'; one of {', '.join(sorted(HANDLERS))}."
        raise ValidationFailed(fields=[field_error(["kind"], message, "kind")])
    size = chunk_size or DEFAULT_CHUNK_SIZE
    started = time.perf_counter()
    plan = PLANNERS.get(kind)
    if plan is not None:
        total, lowers = await plan(session, consultation.id, proposal_id, size)
    else:
        total, lowers = await _plan(session, consultation_id=consultation.id, chunk_size=size)
    run = AnalysisRun(
        id=uuid.uuid4(),
        consultation_id=consultation.id,
        proposal_id=proposal_id,
        kind=kind,
        status=RunStatus.queued,
        progress_done=0,
        progress_total=total,
        parameters={**(parameters or {}), "chunk_size": size},
        seed=seed,
        code_version=code_version(),
        package_versions=package_versions(),
        data_count=total,
        metrics={},
        timings={},
        created_by=user.id if user else None,
        attempts=1,
        chunk_count=len(lowers),
    )
    session.add(run)
    await session.flush()
    chunks = [
        AnalysisRunChunk(
            run_id=run.id,
            index=i,
            lower_id=lower if i else None,
            upper_id=lowers[i + 1] if i + 1 < len(lowers) else None,
            planned=min(size, total - i * size),
            status=RunStatus.queued,
            done=0,
            attempts=0,
            metrics={},
        )
        for i, lower in enumerate(lowers)
    ]
    session.add_all(chunks)
    await session.flush()
    if not chunks:
        await session.execute(
            text(
                "UPDATE analysis_runs SET status = 'succeeded', started_at = now(), "
                "finished_at = now() WHERE id = :id"
            ),
            {"id": run.id},
        )
    await _enqueue(session, queue, run, chunks)
    run.timings = {"plan_seconds": round(time.perf_counter() - started, 4)}
    await session.flush()
    await session.refresh(run)
    return run


async def retry_run(session: AsyncSession, *, queue: App, run: AnalysisRun) -> AnalysisRun:
    """Re-queues the chunks of a failed run that have not succeeded and have no live job."""
    if run.status != RunStatus.failed:
        raise Conflict(f"Only failed jobs can be retried; this one is {run.status.value}.")
    chunks = await _orphan_chunks(session, run.id)
    for chunk in chunks:
        chunk.status = RunStatus.queued
        chunk.error = None
    await session.execute(
        text(
            "UPDATE analysis_runs SET status = CASE WHEN progress_done > 0 THEN 'running' "
            "ELSE 'queued' END, error = NULL, finished_at = NULL, attempts = attempts + 1 "
            "WHERE id = :id"
        ),
        {"id": run.id},
    )
    await _enqueue(session, queue, run, chunks)
    # Nothing left to run (every chunk succeeded or is still queued): settle the status.
    await _finish_if_complete(session, run.id)
    await session.refresh(run)
    return run


async def _orphan_chunks(session: AsyncSession, run_id: uuid.UUID) -> list[AnalysisRunChunk]:
    """Chunks not succeeded whose job is gone or finished (so nothing will run them)."""
    return list(
        await session.scalars(
            select(AnalysisRunChunk)
            .where(
                AnalysisRunChunk.run_id == run_id,
                AnalysisRunChunk.status != RunStatus.succeeded,
                text(
                    "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "
                    "WHERE j.id = analysis_run_chunks.job_id AND j.status IN ('todo', 'doing'))"
                ),
            )
            .order_by(AnalysisRunChunk.index)
            .with_for_update()
        )
    )


# --------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------


async def _finish_if_complete(session: AsyncSession, run_id: uuid.UUID) -> None:
    """Finishes the run when no chunk is queued or running. Call with the run row locked (an
    UPDATE of it earlier in the transaction), so two workers ending the last chunks at once
    cannot both miss the end: the second waits for the first's commit, then sees its chunk."""
    finished = await session.execute(
        text(
            """
            WITH c AS (
                SELECT count(*) FILTER (WHERE status IN ('queued', 'running')) AS open,
                       count(*) FILTER (WHERE status = 'failed') AS failed,
                       sum(done) AS done,
                       sum(seconds) AS seconds
                FROM analysis_run_chunks WHERE run_id = :id
            ),
            m AS (
                SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb) AS metrics FROM (
                    SELECT e.key, sum(e.value::numeric) AS total
                    FROM analysis_run_chunks ch, jsonb_each_text(ch.metrics) e
                    WHERE ch.run_id = :id GROUP BY e.key
                ) s
            )
            UPDATE analysis_runs r SET
                status = CASE WHEN c.failed > 0 THEN 'failed' ELSE 'succeeded' END,
                finished_at = clock_timestamp(),
                progress_total = CASE WHEN c.failed > 0 THEN r.progress_total
                                      ELSE r.progress_done END,
                data_count = coalesce(c.done, 0),
                metrics = r.metrics || m.metrics,
                timings = r.timings || jsonb_build_object(
                    'chunk_seconds', round(coalesce(c.seconds, 0)::numeric, 4),
                    'wall_seconds', round(extract(epoch FROM
                        clock_timestamp() - coalesce(r.started_at, r.created_at))::numeric, 4))
            FROM c, m
            WHERE r.id = :id AND c.open = 0 AND r.chunk_count > 0
            RETURNING r.id
            """
        ),
        {"id": run_id},
    )
    if finished.first() is None:
        return
    hashes = (
        await session.execute(
            text("SELECT data_hash, output_hash FROM analysis_run_chunks WHERE run_id = :id"),
            {"id": run_id},
        )
    ).all()
    await session.execute(
        text(
            "UPDATE analysis_runs SET data_hash = :data_hash, "
            "metrics = metrics || jsonb_build_object('output_hash', CAST(:output_hash AS text)) "
            "WHERE id = :id"
        ),
        {
            "id": run_id,
            "data_hash": combine_hashes(h.data_hash for h in hashes),
            "output_hash": combine_hashes(h.output_hash for h in hashes),
        },
    )


async def start_chunk(session: AsyncSession, *, run_id: uuid.UUID, index: int) -> bool:
    """Marks the chunk (and its run) running; False if the chunk already succeeded."""
    started = await session.scalar(
        text(
            "UPDATE analysis_run_chunks SET status = 'running', attempts = attempts + 1, "
            "started_at = now(), error = NULL "
            "WHERE run_id = :run_id AND index = :index AND status <> 'succeeded' "
            "RETURNING index"
        ),
        {"run_id": run_id, "index": index},
    )
    if started is None:
        return False
    await session.execute(
        text(
            "UPDATE analysis_runs SET status = 'running', "
            "started_at = coalesce(started_at, now()) WHERE id = :id AND status = 'queued'"
        ),
        {"id": run_id},
    )
    return True


@cache
def one_blas_thread() -> None:
    """Analysis chunks use one BLAS/OpenMP thread per process (set once, process-wide).

    The kernels are small (a few hundred to a few thousand rows): OpenBLAS's default of one
    thread per core spent 3 to 20 times the CPU on spinning and hand-offs (measured on
    `consult benchmark`), and several workers already share the cores. Throughput scales
    with workers (`consult worker`), each on one core."""
    from threadpoolctl import threadpool_limits

    # The libraries are loaded first: the limit applies to the thread pools loaded now.
    import analysis.coding  # noqa: F401  (numpy, scipy, scikit-learn)

    threadpool_limits(limits=1)


async def complete_chunk(session: AsyncSession, *, run_id: uuid.UUID, index: int) -> bool:
    """Does the chunk's work and records it, in the session's transaction (commit after).

    False (and nothing written) when the chunk had already succeeded."""
    chunk = await session.scalar(
        select(AnalysisRunChunk)
        .where(
            AnalysisRunChunk.run_id == run_id,
            AnalysisRunChunk.index == index,
            AnalysisRunChunk.status != RunStatus.succeeded,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if chunk is None:
        return False
    run = await session.get(AnalysisRun, run_id)
    if run is None:
        return False
    one_blas_thread()
    clock = time.perf_counter()
    result = await HANDLERS[run.kind](session, run, chunk)
    await session.execute(
        text(
            "UPDATE analysis_run_chunks SET status = 'succeeded', done = :done, "
            "data_hash = :data_hash, output_hash = :output_hash, "
            "metrics = CAST(:metrics AS jsonb), seconds = :seconds, "
            "finished_at = clock_timestamp() "
            "WHERE run_id = :run_id AND index = :index"
        ),
        {
            "done": result.done,
            "data_hash": result.data_hash,
            "output_hash": result.output_hash,
            "metrics": _json(result.metrics),
            "seconds": time.perf_counter() - clock,
            "run_id": run_id,
            "index": index,
        },
    )
    await session.execute(
        text("UPDATE analysis_runs SET progress_done = progress_done + :n WHERE id = :id"),
        {"n": result.done, "id": run_id},
    )
    await _finish_if_complete(session, run_id)
    return True


async def fail_chunk(session: AsyncSession, *, run_id: uuid.UUID, index: int, error: str) -> None:
    await session.execute(
        text(
            "UPDATE analysis_run_chunks SET status = 'failed', error = :error, "
            "finished_at = now() WHERE run_id = :run_id AND index = :index "
            "AND status <> 'succeeded'"
        ),
        {"error": error, "run_id": run_id, "index": index},
    )
    await session.execute(
        text(
            "UPDATE analysis_runs SET status = 'failed', finished_at = now(), "
            "error = :error WHERE id = :id"
        ),
        {"error": f"chunk {index}: {error}", "id": run_id},
    )


async def run_chunk(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: uuid.UUID, index: int
) -> None:
    """A chunk job, start to end: start mark, work + completion, or failure mark."""
    async with sessionmaker() as session:
        started = await start_chunk(session, run_id=run_id, index=index)
        await session.commit()
    if not started:
        return
    try:
        async with sessionmaker() as session:
            await complete_chunk(session, run_id=run_id, index=index)
            await session.commit()
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"[:2000]
        async with sessionmaker() as session:
            await fail_chunk(session, run_id=run_id, index=index, error=message)
            await session.commit()
        raise


async def recover(sessionmaker: async_sessionmaker[AsyncSession], queue: App) -> int:
    """Re-queues work nothing would otherwise finish; returns the number of jobs re-queued.

    Jobs still `doing` on a worker that stopped sending heartbeats are retried (procrastinate
    keeps their id and lock); chunks of unfailed runs left `queued`/`running` without a live
    job (aborted at shutdown, deleted) get a new job."""
    count = 0
    for job in await queue.job_manager.get_stalled_jobs():
        await queue.job_manager.retry_job(job)
        count += 1
    async with sessionmaker() as session:
        runs = await session.scalars(
            select(AnalysisRun).where(AnalysisRun.status.in_([RunStatus.queued, RunStatus.running]))
        )
        for run in list(runs):
            chunks = await _orphan_chunks(session, run.id)
            await _enqueue(session, queue, run, chunks)
            count += len(chunks)
        await session.commit()
    return count


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


# Kinds defined by other domains register their handlers and planners on import.
import app.campaigns.runs  # noqa: E402
import app.coding.runs  # noqa: E402
import app.discovery.runs  # noqa: E402, F401
