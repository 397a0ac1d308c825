"""`consult benchmark DATASET`: coding quality and speed on a labelled dataset, end to end.

The dataset is in the Consult/ThemeFinder evaluation layout:
`inputs/question_part_N/{question.json,responses.jsonl}` (+ `inputs/respondents.jsonl`) and
`outputs/mapping/<date>/question_part_N/{themes.json,mapping.jsonl[,sentiment.jsonl]}` (the
latest <date> folder is used).

1. A fresh database is created on the server in use (DATABASE_URL's, or the embedded one),
   migrated, and dropped at the end.
2. A consultation with one proposal per question part (one open-text question numbered N) is
   created, and the responses are loaded by the normal import path (`import_responses`, the
   ThemeFinder reader, redaction included).
3. Per part, a codeframe is published from `themes.json` (theme code = topic_id), and a
   seeded random `seed_fraction` of the part's answers gets its gold codes (and gold
   position, where the layout has positions) as the analysts' human codings and stances.
   They are written in bulk (not one audited request per answer): this stands for work
   analysts did before the run and is not timed.
4. A code run and a stance run per proposal go through the normal run machinery
   (`start_run`, chunks done in this process one after another, committed per chunk).
5. The other answers' current codes and stances are written to `--predictions` (one JSON
   line per answer: `question_part`, `response_id`, `labels`, `position` as AGREE/DISAGREE
   ... where the layout has positions) and scored against the gold.

The positions of the answers that are not in the seed are not given to the model (the layout
has no stance question among its inputs): stance accuracy is that of the text stance model.

Speed. The end-to-end figure counts every answer of the dataset once and the two timed steps:
the import (read, validate, **redact**, write) and the code + stance runs (fit with its
cross-validation, features, prediction, evidence, writing codings). The seed's codings and the
scoring are not timed. Loading the libraries and the embedding model, which a worker does
once at start-up, is timed apart (`phases.load`; `answers_per_cpu_second_with_load` adds it).
- `answers_per_cpu_second` = answers / CPU seconds of the Consult process over both steps
  (`time.process_time`, all its threads, plus the CPU of child processes it waited for:
  redaction worker processes on large imports). This is the per-core figure: analysis chunks
  use one BLAS thread (`app.jobs.service.one_blas_thread`).
- `coding_answers_per_cpu_second`: the same for the code + stance runs alone (no redaction).
- `answers_per_second` = answers / wall seconds of both steps (on a shared machine this
  includes waiting for the CPU).
- `database_cpu_seconds`: CPU of this benchmark's PostgreSQL backends over both steps, read
  from /proc when the server runs on this machine (None otherwise); not in the figures above.
- `phases`: wall and CPU seconds per step, and the code runs' chunk steps summed over parts
  (fit or load, read, predict + evidence, write).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PART_RE = re.compile(r"^question_part_(\d+)$")
TO_STANCE = {"AGREE": "support", "DISAGREE": "oppose", "NEUTRAL": "neutral", "MIXED": "mixed"}
FROM_STANCE = {v: k for k, v in TO_STANCE.items()} | {"unclear": "UNCLEAR"}


class BenchmarkError(Exception):
    pass


@dataclass
class Part:
    number: int
    question: str
    response_ids: list[Any]  # as in the file (int or str)
    themes: list[dict[str, Any]]
    gold: dict[str, list[str]]  # str(response_id) -> labels
    positions: dict[str, str] = field(default_factory=dict)  # str(response_id) -> position


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_layout(root: Path) -> list[Part]:
    inputs = root / "inputs"
    mapping_root = root / "outputs" / "mapping"
    if not inputs.is_dir() or not mapping_root.is_dir():
        raise BenchmarkError(
            f"{root} is not in the ThemeFinder layout (inputs/, outputs/mapping/)."
        )
    dates = sorted(p for p in mapping_root.iterdir() if p.is_dir())
    if not dates:
        raise BenchmarkError(f"{mapping_root} has no <date> folder.")
    mapping = dates[-1]
    parts: list[Part] = []
    for folder in sorted(inputs.iterdir()):
        match = PART_RE.match(folder.name)
        if not match or not (folder / "responses.jsonl").is_file():
            continue
        gold_dir = mapping / folder.name
        if not (gold_dir / "mapping.jsonl").is_file():
            raise BenchmarkError(f"{gold_dir} has no mapping.jsonl.")
        question = json.loads((folder / "question.json").read_text(encoding="utf-8"))
        rows = _jsonl(folder / "responses.jsonl")
        gold = {
            str(r["response_id"]): list(r.get("labels") or [])
            for r in _jsonl(gold_dir / "mapping.jsonl")
        }
        positions = {}
        if (gold_dir / "sentiment.jsonl").is_file():
            positions = {
                str(r["response_id"]): str(r["position"])
                for r in _jsonl(gold_dir / "sentiment.jsonl")
            }
        parts.append(
            Part(
                number=int(match.group(1)),
                question=str(question.get("question_text") or f"Question part {match.group(1)}"),
                response_ids=[r["response_id"] for r in rows],
                themes=json.loads((gold_dir / "themes.json").read_text(encoding="utf-8")),
                gold=gold,
                positions=positions,
            )
        )
    if not parts:
        raise BenchmarkError(f"{inputs} has no question_part_N/responses.jsonl.")
    return sorted(parts, key=lambda p: p.number)


def split_seed(n: int, fraction: float, seed: int, part_no: int) -> tuple[list[int], list[int]]:
    """Seeded random `fraction` of a part's answers (at least one) and the rest."""
    import numpy as np

    rng = np.random.default_rng([seed, part_no])
    perm = rng.permutation(n)
    k = max(1, round(fraction * n)) if n else 0
    return sorted(int(i) for i in perm[:k]), sorted(int(i) for i in perm[k:])


# --------------------------------------------------------------------------------------
# A fresh database
# --------------------------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def create_database(server_url: str) -> tuple[str, str]:
    import psycopg

    from app.db import libpq_url

    name = f"consult_benchmark_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    from app.db import libpq_url

    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def benchmark(
    dataset: Path,
    *,
    server_url: str,
    seed_fraction: float,
    seed: int,
    predictions: Path | None,
    chunk_size: int | None = None,
) -> dict[str, Any]:
    from app import migrate

    if not 0 < seed_fraction < 1:
        raise BenchmarkError("--seed-fraction must be between 0 and 1.")
    parts = read_layout(dataset)
    name, url = create_database(server_url)
    try:
        migrate.upgrade(url)
        return asyncio.run(
            _run(
                url,
                dataset,
                parts,
                seed_fraction=seed_fraction,
                seed=seed,
                predictions=predictions,
                chunk_size=chunk_size,
            )
        )
    finally:
        drop_database(server_url, name)


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its waited-for children."""
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


async def _backend_cpu(session: Any) -> dict[int, float]:
    """CPU seconds so far of this database's backends, by pid; {} when not readable (the
    server runs elsewhere)."""
    from sqlalchemy import text

    pids = await session.scalars(
        text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    )
    return _proc_cpu([int(pid) for pid in pids])


def _proc_cpu(pids: list[int]) -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                stat = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return {}
        out[pid] = (int(stat[11]) + int(stat[12])) / tick
    return out


def _db_cpu(before: dict[int, float], after: dict[int, float]) -> float | None:
    if not after:
        return None
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 3)


def _load_models() -> None:
    from analysis.embeddings import available
    from app.jobs.service import one_blas_thread

    one_blas_thread()
    available("wordllama")


def _loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


async def _run(
    url: str,
    dataset: Path,
    parts: list[Part],
    *,
    seed_fraction: float,
    seed: int,
    predictions: Path | None,
    chunk_size: int | None,
) -> dict[str, Any]:
    from sqlalchemy import text

    from analysis.coding import micro_macro_f1, sample_f1
    from app.codeframes import service as codeframes
    from app.codeframes.schemas import CodeframeCreate, ThemeIn
    from app.coding.review import run_in_process, start_proposal_run
    from app.config import get_settings
    from app.consultations import service as consultations
    from app.consultations.schemas import ConsultationCreate
    from app.db import make_engine, make_sessionmaker
    from app.enums import Role
    from app.imports.service import import_responses
    from app.jobs.worker import make_app
    from app.users import service as users

    engine = make_engine(url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    slug = "benchmark"
    queue = make_app(url)
    try:
        async with sessionmaker() as session:
            admin, _ = await users.create_user(
                session, email="benchmark@consult.invalid", role=Role.admin, name="Benchmark"
            )
            detail = await consultations.create_consultation(
                session,
                data=ConsultationCreate.model_validate(
                    {
                        "slug": slug,
                        "title": f"Benchmark: {dataset.name}",
                        "proposals": [
                            {
                                "title": f"Question part {p.number}",
                                "questions": [
                                    {
                                        "number": str(p.number),
                                        "text": p.question[:5000],
                                        "kind": "open_text",
                                    }
                                ],
                            }
                            for p in parts
                        ],
                    }
                ),
            )
            await consultations.change_status(session, slug=slug, action="open")
            await session.commit()
        proposal_of = {p.number: detail.proposals[i].id for i, p in enumerate(parts)}

        # What a worker does once at start-up: load the libraries and the embedding model.
        cpu0, wall0 = _cpu(), time.perf_counter()
        await asyncio.to_thread(_load_models)
        load_cpu, load_seconds = _cpu() - cpu0, time.perf_counter() - wall0

        async with sessionmaker() as session:
            db0 = await _backend_cpu(session)
        cpu0, wall0 = _cpu(), time.perf_counter()
        async with sessionmaker() as session:
            imported = await import_responses(
                session,
                slug=slug,
                user=None,
                filename=dataset.name,
                path=dataset,
                file_format="themefinder",
                max_answer_chars=max(get_settings().max_answer_chars, 1_000_000),
            )
            await session.commit()
        import_cpu, import_seconds = _cpu() - cpu0, time.perf_counter() - wall0
        async with sessionmaker() as session:
            db1 = await _backend_cpu(session)

        # Answers by (part, response_id), codeframes, the seed's human codings and stances.
        seeded: dict[int, set[str]] = {}
        answers: dict[tuple[int, str], tuple[uuid.UUID, uuid.UUID]] = {}
        codeframe_of: dict[int, uuid.UUID] = {}
        async with sessionmaker() as session:
            for row in await session.execute(
                text(
                    "SELECT q.number, r.external_id, a.id, a.response_id FROM answers a "
                    "JOIN questions q ON q.id = a.question_id "
                    "JOIN responses r ON r.id = a.response_id "
                    "WHERE r.consultation_id = :c AND a.text IS NOT NULL"
                ),
                {"c": detail.id},
            ):
                answers[(int(row.number), str(row.external_id))] = (row.id, row.response_id)
            for part in parts:
                draft = await codeframes.create_codeframe(
                    session,
                    proposal_id=proposal_of[part.number],
                    user=admin,
                    data=CodeframeCreate(
                        themes=[
                            ThemeIn(
                                code=str(t["topic_id"]),
                                label=str(t.get("topic_label") or t["topic_id"])[:200],
                                description=str(t.get("topic_description") or "")[:5000],
                            )
                            for t in part.themes
                        ]
                    ),
                )
                published = await codeframes.publish(session, codeframe_id=draft.id, user=admin)
                codeframe_of[part.number] = published.id
                theme_ids = {t.code: t.id for t in published.themes}
                present = [str(r) for r in part.response_ids if (part.number, str(r)) in answers]
                chosen, _ = split_seed(len(present), seed_fraction, seed, part.number)
                seeded[part.number] = {present[i] for i in chosen}
                rows: list[tuple[uuid.UUID, uuid.UUID, bool]] = []
                stance_rows: list[tuple[uuid.UUID, uuid.UUID, str]] = []
                for rid in sorted(seeded[part.number]):
                    answer_id, response_id = answers[(part.number, rid)]
                    labels = set(part.gold.get(rid, []))
                    rows += [(answer_id, tid, code in labels) for code, tid in theme_ids.items()]
                    if rid in part.positions:
                        value = TO_STANCE.get(part.positions[rid].upper(), "unclear")
                        stance_rows.append((answer_id, response_id, value))
                await session.execute(
                    text(
                        "INSERT INTO codings (answer_id, theme_id, codeframe_id, present, "
                        "source, user_id, evidence) SELECT a, t, :cf, p, 'human', :u, "
                        "'{}'::jsonb FROM unnest(CAST(:a AS uuid[]), CAST(:t AS uuid[]), "
                        "CAST(:p AS boolean[])) AS i(a, t, p)"
                    ),
                    {
                        "cf": published.id,
                        "u": admin.id,
                        "a": [r[0] for r in rows],
                        "t": [r[1] for r in rows],
                        "p": [r[2] for r in rows],
                    },
                )
                if stance_rows:
                    await session.execute(
                        text(
                            "INSERT INTO stances (answer_id, response_id, proposal_id, value, "
                            "source, user_id, evidence) SELECT a, r, :p, v, 'human', :u, "
                            "'{}'::jsonb FROM unnest(CAST(:a AS uuid[]), CAST(:r AS uuid[]), "
                            "CAST(:v AS text[])) AS i(a, r, v)"
                        ),
                        {
                            "p": proposal_of[part.number],
                            "u": admin.id,
                            "a": [r[0] for r in stance_rows],
                            "r": [r[1] for r in stance_rows],
                            "v": [r[2] for r in stance_rows],
                        },
                    )
            await session.commit()

        async with sessionmaker() as session:
            db2 = await _backend_cpu(session)
        cpu0, wall0 = _cpu(), time.perf_counter()
        runs: list[dict[str, Any]] = []
        for part in parts:
            kinds = ("code", "stance") if part.positions else ("code",)
            for kind in kinds:
                async with sessionmaker() as session:
                    run = await start_proposal_run(
                        session,
                        queue=queue,
                        proposal_id=proposal_of[part.number],
                        user=None,
                        kind=kind,
                        seed=seed,
                        chunk_size=chunk_size,
                    )
                    await session.commit()
                    run = await run_in_process(session, run_id=run.id, commit=True)
                    if run.status.value != "succeeded":
                        raise BenchmarkError(
                            f"{kind} run for part {part.number} failed: {run.error}"
                        )
                    runs.append(
                        {
                            "part": part.number,
                            "kind": kind,
                            "run_id": str(run.id),
                            "answers": run.data_count,
                            "cv": run.metrics.get("cv"),
                            "counts": {
                                k: v
                                for k, v in run.metrics.items()
                                if isinstance(v, int | float) and not isinstance(v, bool)
                            },
                            "timings": run.timings,
                        }
                    )
        coding_cpu, coding_seconds = _cpu() - cpu0, time.perf_counter() - wall0
        async with sessionmaker() as session:
            db3 = await _backend_cpu(session)
        db_import, db_coding = _db_cpu(db0, db1), _db_cpu(db2, db3)
        db_cpu = None if db_import is None or db_coding is None else db_import + db_coding

        # Predictions and scores.
        gold_all: list[list[str]] = []
        pred_all: list[list[str]] = []
        stance_n = stance_ok = 0
        lines: list[str] = []
        labels_all: set[str] = set()
        async with sessionmaker() as session:
            for part in parts:
                codes = {
                    row.answer_id: list(row.codes or [])
                    for row in await session.execute(
                        text(
                            "SELECT c.answer_id, array_agg(t.code ORDER BY t.position) "
                            "FILTER (WHERE c.present) AS codes FROM codings c "
                            "JOIN themes t ON t.id = c.theme_id "
                            "WHERE c.codeframe_id = :cf AND c.is_current GROUP BY c.answer_id"
                        ),
                        {"cf": codeframe_of[part.number]},
                    )
                }
                stances = {
                    row.response_id: row.value
                    for row in await session.execute(
                        text(
                            "SELECT response_id, value FROM stances "
                            "WHERE proposal_id = :p AND is_current"
                        ),
                        {"p": proposal_of[part.number]},
                    )
                }
                labels_all |= {f"{part.number}:{t['topic_id']}" for t in part.themes}
                for raw in part.response_ids:
                    rid = str(raw)
                    if rid in seeded[part.number] or (part.number, rid) not in answers:
                        continue
                    answer_id, response_id = answers[(part.number, rid)]
                    predicted = codes.get(answer_id, [])
                    line: dict[str, Any] = {
                        "question_part": part.number,
                        "response_id": raw,
                        "labels": predicted,
                    }
                    if part.positions:
                        found = stances.get(response_id)
                        position = FROM_STANCE.get(found, "UNCLEAR") if found else None
                        line["position"] = position
                        if rid in part.positions:
                            stance_n += 1
                            stance_ok += position == part.positions[rid].upper()
                    lines.append(json.dumps(line))
                    gold_all.append([f"{part.number}:{x}" for x in part.gold.get(rid, [])])
                    pred_all.append([f"{part.number}:{x}" for x in predicted])
    finally:
        await engine.dispose()
    if predictions is not None:
        await asyncio.to_thread(_write_lines, predictions, lines)
    micro, macro = micro_macro_f1(gold_all, pred_all, labels_all)
    total = imported.answers
    seconds = import_seconds + coding_seconds
    cpu = import_cpu + coding_cpu
    steps = ("model", "read", "predict", "write")
    code_steps = {
        f"{step}_{unit}seconds": round(
            sum(
                float(r["counts"].get(f"{step}_{unit}seconds") or 0)
                for r in runs
                if r["kind"] == "code"
            ),
            3,
        )
        for step in steps
        for unit in ("", "cpu_")
    }
    return {
        "dataset": str(dataset),
        "parts": len(parts),
        "answers": total,
        "seed_answers": sum(len(s) for s in seeded.values()),
        "predicted_answers": len(pred_all),
        "seed_fraction": seed_fraction,
        "seed": seed,
        "sample_f1": round(sample_f1(gold_all, pred_all), 4) if pred_all else None,
        "micro_f1": round(micro, 4),
        "macro_f1": round(macro, 4),
        "stance_accuracy": round(stance_ok / stance_n, 4) if stance_n else None,
        "stance_answers": stance_n,
        "import_seconds": round(import_seconds, 3),
        "coding_seconds": round(coding_seconds, 3),
        "answers_per_second": round(total / seconds, 1) if seconds else None,
        "coding_answers_per_second": round(total / coding_seconds, 1) if coding_seconds else None,
        "answers_per_cpu_second": round(total / cpu, 1) if cpu else None,
        "coding_answers_per_cpu_second": round(total / coding_cpu, 1) if coding_cpu else None,
        "wall_seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "database_cpu_seconds": db_cpu,
        "answers_per_cpu_second_with_load": round(total / (cpu + load_cpu), 1),
        "phases": {
            "load": {"wall_seconds": round(load_seconds, 3), "cpu_seconds": round(load_cpu, 3)},
            "import": {
                "wall_seconds": round(import_seconds, 3),
                "cpu_seconds": round(import_cpu, 3),
                "database_cpu_seconds": db_import,
            },
            "coding": {
                "wall_seconds": round(coding_seconds, 3),
                "cpu_seconds": round(coding_cpu, 3),
                "database_cpu_seconds": db_coding,
            },
            "code_chunks": code_steps,
        },
        "loadavg": _loadavg(),
        "cpu_count": os.cpu_count(),
        "runs": runs,
    }
