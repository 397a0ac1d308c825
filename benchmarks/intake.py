"""Intake benchmarks.

``import``: bulk import of a generated CSV (N responses x 4 open-text questions, ~300
characters each, respondent columns, some personal data) through the real import service,
next to a raw PostgreSQL ``COPY`` of the same file into a plain table of text columns. The
figure is the ratio of the two speeds (target: import at least half as fast as COPY).

    uv run python benchmarks/intake.py import --rows 100000

``api``: responses per second and p50/p99 latency of the public submission endpoint under
concurrent clients on loopback (see benchmarks/api_intake.py).

    uv run python benchmarks/intake.py api --seconds 15 --concurrency 16

``all`` runs both and prints one JSON document (the README's one command):

    uv run python benchmarks/intake.py all

Uses DATABASE_URL's server when set (in a fresh, dropped-afterwards database), otherwise an
embedded PostgreSQL in a temporary folder. Runs are interleaved (COPY, import, COPY, ...)
and the medians reported; every run starts from empty tables after a CHECKPOINT. Prints
JSON, including where the import's time goes (read, validate, write, commit) and what
redacting the same texts costs on its own. ``--profile`` adds a cProfile of one import.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = 4

# ---------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------

OPENERS = [
    "I think",
    "In my view",
    "Honestly,",
    "As a parent,",
    "Speaking as a nurse,",
    "We believe",
    "Frankly,",
    "On balance,",
    "As a carer,",
    "From my experience as a teacher,",
    "Personally,",
    "As someone who works in IT,",
    "Our members feel",
    "Having read the proposal,",
    "To be clear,",
]
SUBJECTS = [
    "sharing GP records with researchers",
    "linking tax records and benefit data",
    "using smart meter readings to find fuel poverty",
    "giving councils access to debt data",
    "matching census returns with health records",
    "letting schools share attendance data",
    "using bank data to spot fraud",
    "passing travel card data to the police",
    "sharing social care records across agencies",
    "publishing anonymised hospital data",
    "combining prescription data with benefit claims",
    "giving insurers access to health data",
]
VIEWS = [
    "is a sensible step if there are strong safeguards",
    "worries me because nobody asks for consent",
    "could help vulnerable households",
    "needs independent oversight and clear limits",
    "will erode trust in public services",
    "should only happen with properly anonymised data",
    "is long overdue",
    "goes much too far",
    "could work if people can opt out",
    "would save time for frontline staff",
    "risks discrimination against poorer families",
    "is acceptable for research but not for enforcement",
]
REASONS = [
    "The government must publish what it shares and with whom.",
    "People should be able to opt out easily and without penalty.",
    "Data breaches happen far too often for this to be safe.",
    "This would save money and time for everyone involved.",
    "I am not convinced the benefits outweigh the risks.",
    "Please consider the impact on disabled people and carers.",
    "Security standards must be audited every year by someone independent.",
    "Trust is hard to win back once it is lost.",
    "Private companies should never be allowed to profit from this.",
    "There should be a clear legal basis set out in primary legislation.",
    "Any sharing should be logged so that people can see who looked at their records.",
    "My family has been let down before by departments losing paperwork.",
    "Researchers already have safe settings and should use them.",
    "Local councils do not have the skills to handle this securely.",
    "The proposal does not say how long the data would be kept.",
    "It is not clear what happens when the data turns out to be wrong.",
]
WORDS = [
    "data",
    "privacy",
    "consent",
    "records",
    "council",
    "agency",
    "research",
    "fraud",
    "debt",
    "energy",
    "health",
    "school",
    "family",
    "community",
    "risk",
    "benefit",
    "trust",
    "security",
    "access",
    "oversight",
    "law",
    "rights",
    "service",
    "public",
    "citizens",
    "people",
    "safeguards",
    "transparency",
    "accountability",
    "error",
    "misuse",
]
FIRST = ["Jane", "John", "Priya", "Mohammed", "Sarah", "David", "Emma", "Gareth", "Fiona", "Ian"]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Khan",
    "Evans",
    "Taylor",
    "Brown",
    "Wilson",
    "Roberts",
    "Hughes",
]
REGIONS = ["England", "Scotland", "Wales", "Northern Ireland", "London", "North West", "South East"]
ORG_TYPES = ["Charity", "Local authority", "Business", "Academic", "Professional body"]


def answer_text(rng: random.Random, name: str | None, i: int) -> str:
    parts = [f"{rng.choice(OPENERS)} {rng.choice(SUBJECTS)} {rng.choice(VIEWS)}."]
    target = rng.randint(220, 380)
    while sum(len(p) + 1 for p in parts) < target:
        if rng.random() < 0.3:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
            parts.append(words[0].upper() + words[1:] + ".")
        else:
            parts.append(rng.choice(REASONS))
    roll = rng.random()
    if roll < 0.02:
        parts.append(f"Contact me at {rng.choice(FIRST).lower()}.{i}@example.org.")
    elif roll < 0.04:
        parts.append(f"Call 07700 9{i % 100000:05d} if you need more.")
    elif roll < 0.05:
        parts.append("I live at SW1A 1AA.")
    elif roll < 0.08 and name:
        parts.append(f"Kind regards,\n{name}")
    return " ".join(parts)


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    header = [
        "response_id",
        "respondent_kind",
        "organisation_name",
        "organisation_type",
        "name",
        "region",
        "publication_consent",
    ] + [f"Q{q}" for q in range(1, QUESTIONS + 1)]
    consents = ["publish", "publish_anonymously", "do_not_publish"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            organisation = rng.random() < 0.1
            name = (
                None
                if organisation or rng.random() < 0.4
                else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            )
            writer.writerow(
                [
                    f"R{i + 1:07d}",
                    "organisation" if organisation else "individual",
                    f"Organisation {i}" if organisation else "",
                    rng.choice(ORG_TYPES) if organisation else "",
                    name or "",
                    rng.choice(REGIONS),
                    rng.choice(consents),
                    *(answer_text(rng, name, i) for _ in range(QUESTIONS)),
                ]
            )


# ---------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------


class Server:
    """DATABASE_URL's server or an embedded one in a temporary folder; a fresh database."""

    def __init__(self) -> None:
        self.embedded: Any = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.server_url = os.environ.get("DATABASE_URL")
        self.database = f"consult_bench_{os.getpid()}"

    def start(self) -> str:
        import psycopg

        from app.embedded import EmbeddedPostgres

        if not self.server_url:
            self.tmp = tempfile.TemporaryDirectory(prefix="consult-bench-")
            self.embedded = EmbeddedPostgres(Path(self.tmp.name), database="postgres")
            self.server_url = self.embedded.start()
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        parts = urlsplit(self.server_url)
        return urlunsplit(parts._replace(path="/" + self.database))

    def stop(self) -> None:
        import psycopg

        assert self.server_url
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        if self.embedded is not None:
            self.embedded.stop()
        if self.tmp is not None:
            self.tmp.cleanup()


def raw_copy(url: str, path: Path, header: list[str], cpu: list[float] | None = None) -> float:
    """Seconds to COPY the CSV file into a fresh plain table (commit included); the server
    process's CPU seconds are appended to `cpu` when given and visible."""
    import psycopg

    columns = ", ".join(f'"c{i}" text' for i in range(len(header)))
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        conn.execute(f"CREATE TABLE bench_raw_copy ({columns})")
        conn.commit()
        conn.execute("CHECKPOINT")
        cpu_before = _backend_cpu(conn)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - started
        cpu_after = _backend_cpu(conn)
        if cpu is not None and cpu_before is not None and cpu_after is not None:
            cpu.append(cpu_after - cpu_before)
        conn.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return elapsed


async def create_consultation(url: str, slug: str) -> None:
    from app.consultations import service as consultations
    from app.consultations.schemas import ConsultationCreate, ProposalIn, QuestionIn
    from app.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    async with make_sessionmaker(engine)() as session:
        await consultations.create_consultation(
            session,
            data=ConsultationCreate(
                slug=slug,
                title="Benchmark consultation",
                proposals=[
                    ProposalIn(
                        title="Sharing data",
                        questions=[
                            QuestionIn(number=str(q), text=f"Question {q}?", kind="open_text")
                            for q in range(1, QUESTIONS + 1)
                        ],
                    )
                ],
            ),
        )
        await consultations.change_status(session, slug=slug, action="open")
        await session.commit()
    await engine.dispose()


async def full_import(
    url: str, path: Path, slug: str, profile: Path | None = None
) -> dict[str, float]:
    """Seconds of the import through the service, commit included, and its phases."""
    import psycopg

    from app.config import get_settings
    from app.db import make_engine, make_sessionmaker
    from app.imports import service

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE respondents, responses, answers, imports CASCADE")
        conn.execute("CHECKPOINT")
    engine = make_engine(url, pool_size=1)
    profiler = cProfile.Profile() if profile else None
    try:
        async with make_sessionmaker(engine)() as session:
            await session.connection()  # connect before the clock starts, as COPY does
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            result = await service.import_responses(
                session,
                slug=slug,
                user=None,
                filename=path.name,
                path=path,
                max_answer_chars=get_settings().max_answer_chars,
            )
            before_commit = time.perf_counter()
            await session.commit()
            if profiler:
                profiler.disable()
            finished = time.perf_counter()
    finally:
        await engine.dispose()
    if profiler and profile:
        profiler.dump_stats(profile)
    return {
        "seconds": finished - started,
        **{f"{k}_seconds": v for k, v in result.timings.items()},
        "commit_seconds": finished - before_commit,
        "responses": result.responses,
        "answers": result.answers,
    }


FLOOR_TABLES = {
    "respondents": "id, consultation_id, kind, name, organisation_name, organisation_type, "
    "region, email, publication_consent, channel, attributes",
    "responses": "id, consultation_id, respondent_id, receipt_code, submitted_at, status, "
    "channel, external_id, import_id",
    "answers": "id, response_id, question_id, text, redacted_text, options",
}


def _backend_cpu(conn: Any) -> float | None:
    """CPU seconds used so far by the connection's server process (None if not visible,
    e.g. a remote DATABASE_URL): server work, unlike wall time, hardly moves with the load."""
    try:
        stat = Path(f"/proc/{conn.info.backend_pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dump_import(url: str) -> dict[str, bytes]:
    """The rows an import stored, as COPY text per table (what the import streams)."""
    import psycopg

    out: dict[str, bytes] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for table, columns in {"imports": "*", **FLOOR_TABLES}.items():
            data = bytearray()
            source = table if columns == "*" else f"{table} ({columns})"
            with cursor.copy(f"COPY {source} TO STDOUT") as copy:
                for block in copy:
                    data += block
            out[table] = bytes(data)
    return out


def copy_floor_rows(conn: Any, payloads: dict[str, bytes]) -> dict[str, float]:
    """COPY the formatted rows into the real tables in ``conn``'s open transaction, table by
    table as the import does; per table its seconds (``{table}_seconds``) and server CPU
    seconds (``{table}_cpu``, when readable)."""
    out: dict[str, float] = {}
    with conn.cursor() as cursor:
        for table, columns in FLOOR_TABLES.items():
            cpu_before = _backend_cpu(conn)
            lap = time.perf_counter()
            data = payloads[table]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for i in range(0, len(data), 1 << 20):
                    copy.write(data[i : i + (1 << 20)])
            if table == "responses":
                # As the import does for large imports (service._write): without fresh
                # statistics the answers count trigger's plan is quadratic.
                cursor.execute("ANALYZE respondents, responses")
            out[f"{table}_seconds"] = time.perf_counter() - lap
            cpu_after = _backend_cpu(conn)
            if cpu_before is not None and cpu_after is not None:
                out[f"{table}_cpu"] = cpu_after - cpu_before
    return out


def schema_floor(url: str, payloads: dict[str, bytes]) -> dict[str, float]:
    """Seconds to COPY the import's own rows, already formatted, into the real respondents,
    responses and answers tables in one transaction (commit included): no reading, no
    validation, no redaction, no Python formatting. What the schema (foreign keys, indexes,
    CHECKs, the count triggers, WAL) costs on its own; no import of this schema can be faster.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE respondents, responses, answers, imports CASCADE")
        # The import's own row, which its responses point at (not timed).
        with conn.cursor().copy("COPY imports FROM STDIN") as copy:
            copy.write(payloads["imports"])
        conn.execute("CHECKPOINT")
    with psycopg.connect(url) as conn:
        cpu_before = _backend_cpu(conn)
        started = time.perf_counter()
        result = copy_floor_rows(conn, payloads)
        conn.commit()
        result["seconds"] = time.perf_counter() - started
        cpu_after = _backend_cpu(conn)
    if cpu_before is not None and cpu_after is not None:
        result["server_cpu_seconds"] = cpu_after - cpu_before
    return result


def redaction_only(path: Path) -> float:
    """Seconds to redact the file's answers on their own, as the import does (distinct
    (text, name) pairs, one process)."""
    from app.imports.service import _name_if_present, redact_batch

    pairs: dict[tuple[str, str | None], None] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        name_col = header.index("name")
        first_q = header.index("Q1")
        for row in reader:
            for text in row[first_q:]:
                pairs[(text, _name_if_present(text, row[name_col] or None))] = None
    started = time.perf_counter()
    redact_batch(list(pairs))
    return time.perf_counter() - started


def _copies(texts: list[str], names: Any) -> list[Any]:
    from analysis.redaction import Redaction

    return [Redaction(t, ()) for t in texts]


class _NoRedaction:
    """Diagnostic only: the import with redaction replaced by a copy of the text."""

    def __enter__(self) -> None:
        from app.imports import service

        self.saved = (service.redact_many, service.PROCESS_POOL_MIN_TEXTS)
        service.redact_many = _copies  # type: ignore[assignment]
        service.PROCESS_POOL_MIN_TEXTS = 1 << 62

    def __exit__(self, *exc: object) -> None:
        from app.imports import service

        service.redact_many, service.PROCESS_POOL_MIN_TEXTS = self.saved


def bench_import(args: argparse.Namespace) -> dict[str, Any]:
    from app import migrate
    from app.imports import service

    if args.redaction_workers is not None:
        service.MAX_REDACTION_WORKERS = args.redaction_workers

    workdir = Path(tempfile.mkdtemp(prefix="consult-import-"))
    path = workdir / "responses.csv"
    write_csv(path, args.rows, seed=args.seed)
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    server = Server()
    url = server.start()
    try:
        migrate.upgrade(url)
        slug = "bench-" + uuid.uuid4().hex[:8]
        asyncio.run(create_consultation(url, slug))
        copies: list[float] = []
        copy_cpu: list[float] = []
        imports: list[dict[str, float]] = []
        floors: list[dict[str, float]] = []
        payloads: dict[str, bytes] = {}
        for _ in range(args.repeat):
            copies.append(raw_copy(url, path, header, copy_cpu))
            imports.append(asyncio.run(full_import(url, path, slug)))
            payloads = payloads or dump_import(url)
            floors.append(schema_floor(url, payloads))
        without_redaction: list[float] = []
        if args.diagnose:
            for _ in range(args.repeat):
                with _NoRedaction():
                    without_redaction.append(asyncio.run(full_import(url, path, slug))["seconds"])
        profile_path = workdir / "import.prof" if args.profile else None
        if profile_path:
            asyncio.run(full_import(url, path, slug, profile_path))
        redaction_seconds = redaction_only(path)
    finally:
        server.stop()

    copy_s = statistics.median(copies)
    import_s = statistics.median(r["seconds"] for r in imports)
    phases = {
        key.removesuffix("_seconds"): round(statistics.median(r.get(key, 0.0) for r in imports), 3)
        for key in imports[0]
        if key.endswith("_seconds") and key != "seconds"
    }
    floor_s = statistics.median(f["seconds"] for f in floors)
    floor = {
        key.removesuffix("_seconds"): round(statistics.median(f[key] for f in floors), 3)
        for key in floors[0]
        if key != "seconds"
    }
    result: dict[str, Any] = {
        "benchmark": "bulk import vs raw COPY",
        "rows": args.rows,
        "answers": int(imports[0]["answers"]),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "repeat": args.repeat,
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded (pgserver)",
        "cpus": os.cpu_count(),
        "copy_seconds": round(copy_s, 3),
        "copy_rows_per_s": round(args.rows / copy_s),
        "import_seconds": round(import_s, 3),
        "import_rows_per_s": round(args.rows / import_s),
        "ratio_import_to_copy": round(copy_s / import_s, 3),
        "target_ratio": 0.5,
        # The same rows, pre-formatted, COPYed into the real tables: the best any import
        # into this schema can do (see schema_floor).
        "schema_floor_seconds": round(floor_s, 3),
        "ratio_schema_floor_to_copy": round(copy_s / floor_s, 3),
        "schema_floor_parts": floor,
        # Server CPU seconds (load-independent): raw COPY vs the schema floor.
        "copy_server_cpu_seconds": round(statistics.median(copy_cpu), 3) if copy_cpu else None,
        "schema_floor_mb": round(sum(len(payloads[t]) for t in FLOOR_TABLES) / 1e6, 1),
        "import_phases_seconds": phases,
        "redaction_alone_seconds": round(redaction_seconds, 3),
        "redaction_alone_texts_per_s": round(int(imports[0]["answers"]) / redaction_seconds),
        "all_copy_seconds": [round(c, 3) for c in copies],
        "all_import_seconds": [round(r["seconds"], 3) for r in imports],
        "all_schema_floor_seconds": [round(f["seconds"], 3) for f in floors],
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "redaction_workers": service.redaction_workers(),
        "all_import_phases": [
            {
                k.removesuffix("_seconds"): round(v, 3)
                for k, v in r.items()
                if k.endswith("_seconds")
            }
            for r in imports
        ],
    }
    if without_redaction:
        seconds = statistics.median(without_redaction)
        result["diagnostic_import_without_redaction"] = {
            "seconds": round(seconds, 3),
            "rows_per_s": round(args.rows / seconds),
            "ratio_to_copy": round(copy_s / seconds, 3),
        }
    if profile_path:
        out = io.StringIO()
        pstats.Stats(str(profile_path), stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue(), file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="bulk import vs raw COPY of the same CSV file")
    imp.add_argument("--rows", type=int, default=100_000)
    imp.add_argument("--repeat", type=int, default=3, help="interleaved runs of each (median)")
    imp.add_argument("--seed", type=int, default=0)
    imp.add_argument("--profile", action="store_true", help="cProfile one more import (stderr)")
    imp.add_argument(
        "--diagnose",
        action="store_true",
        help="also time the import with redaction replaced by a copy (where the time goes)",
    )
    imp.add_argument(
        "--redaction-workers",
        type=int,
        default=None,
        help="processes for redaction (default: one per core, max 8); 0 = a thread",
    )
    for name in ("api", "all"):
        sub = commands.add_parser(name, help="API intake" if name == "api" else "import and api")
        sub.add_argument("--seconds", type=float, default=15)
        sub.add_argument("--concurrency", type=int, default=16)
        sub.add_argument("--workers", type=int, default=2)
        if name == "all":
            sub.add_argument("--rows", type=int, default=100_000)
            sub.add_argument("--repeat", type=int, default=3)
            sub.add_argument("--seed", type=int, default=0)
            sub.set_defaults(profile=False, diagnose=False, redaction_workers=None)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if args.command in ("import", "all"):
        results["import"] = bench_import(args)
    if args.command in ("api", "all"):
        from benchmarks.api_intake import run_with_database

        results["api"] = run_with_database(args.seconds, args.concurrency, args.workers)
    print(json.dumps(results if args.command == "all" else next(iter(results.values())), indent=2))


if __name__ == "__main__":
    main()
