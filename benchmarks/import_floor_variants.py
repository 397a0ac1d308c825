"""Where the import's schema floor goes: the same pre-formatted rows COPYed into variants of
the schema (each in a fresh copy of a template database), next to raw COPY of the file.

    uv run python benchmarks/import_floor_variants.py --rows 20000 --repeat 2

The rows are those one real import stored (benchmarks/intake.py's file). Each variant drops
something from respondents, responses and answers (foreign keys, CHECKs, indexes, the
answers count trigger...) and COPYs the rows in one transaction; it prints wall seconds and
the server process's CPU seconds (steadier than wall time on a shared machine), per table,
and the WAL written. Diagnostic only: no variant is a proposal to drop a guarantee.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import (
    FLOOR_TABLES,
    Server,
    _backend_cpu,
    copy_floor_rows,
    create_consultation,
    full_import,
    write_csv,
)

TABLES = list(FLOOR_TABLES)
TEMPLATE = "floor_template"
WORK = "floor_variant"
NO_TRIGGER = "DROP TRIGGER theme_counts_answers_ins ON answers"


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _constraints(url: str, tables: list[str], kind: str) -> list[str]:
    import psycopg

    out = []
    with psycopg.connect(url) as conn:
        for table in tables:
            rows = conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = %s",
                (table, kind),
            )
            out += [f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {n}" for (n,) in rows]
    return out


def _indexes(url: str, tables: list[str], unique: bool | None = None) -> list[str]:
    import psycopg

    out = []
    with psycopg.connect(url) as conn:
        for table in tables:
            rows = conn.execute(
                "SELECT i.relname, x.indisunique, x.indisprimary, (SELECT conname FROM "
                "pg_constraint WHERE conindid = x.indexrelid AND conrelid = x.indrelid LIMIT 1) "
                "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass",
                (table,),
            )
            for name, is_unique, primary, constraint in rows:
                if primary or (unique is not None and is_unique != unique):
                    continue
                out.append(
                    f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}"
                    if constraint
                    else f"DROP INDEX IF EXISTS {name}"
                )
    return out


def _variants(url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        referencing = [
            f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {n}"
            for t, n in conn.execute(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid IN ('answers'::regclass, 'responses'::regclass, "
                "'respondents'::regclass)"
            )
        ]
    fks = _constraints(url, TABLES, "f")
    bare = fks + _constraints(url, TABLES, "c") + _indexes(url, TABLES) + [NO_TRIGGER]
    no_pk = [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS pk_{t}" for t in reversed(TABLES)]
    return {
        "full": [],
        "no_answers_count_trigger": [NO_TRIGGER],
        "count_trigger_body_empty": [
            "CREATE OR REPLACE FUNCTION theme_counts_answers_ins() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
        ],
        "no_foreign_keys": fks,
        "no_foreign_keys_on_answers": _constraints(url, ["answers"], "f"),
        "no_foreign_keys_on_responses": _constraints(url, ["responses"], "f"),
        "no_check_constraints": _constraints(url, TABLES, "c"),
        "no_unique_indexes": _indexes(url, TABLES, unique=True),
        "no_secondary_indexes": _indexes(url, TABLES, unique=False),
        "primary_keys_only": _indexes(url, TABLES),
        "responses_index_cleanup": [
            "DROP INDEX ix_responses_consultation_id",
            "DROP INDEX ix_responses_campaign_id",
            "CREATE INDEX ix_responses_campaign_id ON responses (campaign_id) "
            "WHERE campaign_id IS NOT NULL",
        ],
        "bare": bare,
        "bare_no_primary_keys": referencing + bare + no_pk,
        "bare_unlogged_no_primary_keys": referencing
        + bare
        + no_pk
        + [f"ALTER TABLE {t} SET UNLOGGED" for t in reversed(TABLES)],
        "full_redacted_null_when_identical": [],
    }


def _wal_mb(conn: Any, since: str) -> float:
    row = conn.execute("SELECT (pg_current_wal_insert_lsn() - %s::pg_lsn) / 1e6", (since,))
    return float(row.fetchone()[0])


def _raw_copy(url: str, path: Path, columns: int) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        conn.execute(
            "CREATE TABLE bench_raw_copy (" + ", ".join(f"c{i} text" for i in range(columns)) + ")"
        )
        conn.commit()
        conn.execute("CHECKPOINT")
        lsn = str(conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0])  # type: ignore[index]
        conn.commit()
        cpu, started = _backend_cpu(conn), time.perf_counter()
        with (
            conn.cursor().copy("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER)") as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        out = {
            "seconds": time.perf_counter() - started,
            "cpu": (_backend_cpu(conn) or 0) - (cpu or 0),
        }
        out["wal_mb"] = _wal_mb(conn, lsn)
        conn.execute("DROP TABLE bench_raw_copy")
        conn.commit()
    return out


def _floor(url: str, payloads: dict[str, bytes]) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CHECKPOINT")
        lsn = str(conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0])  # type: ignore[index]
        conn.commit()
        cpu0 = _backend_cpu(conn) or 0.0
        started = time.perf_counter()
        out = copy_floor_rows(conn, payloads)
        conn.commit()
        out["seconds"] = time.perf_counter() - started
        out["cpu"] = (_backend_cpu(conn) or 0.0) - cpu0
        out["wal_mb"] = _wal_mb(conn, lsn)
    return out


def main() -> None:
    import psycopg

    from app import migrate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated variant names")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="consult-floor-"))
    path = workdir / "responses.csv"
    write_csv(path, args.rows)
    with path.open(newline="", encoding="utf-8") as handle:
        columns = len(next(csv.reader(handle)))
    server = Server()
    url = server.start()
    assert server.server_url
    admin = psycopg.connect(server.server_url, autocommit=True)
    template = _with_db(url, TEMPLATE)
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        migrate.upgrade(template)
        asyncio.run(create_consultation(template, "floor-variants"))
        asyncio.run(full_import(template, path, "floor-variants"))
        payloads: dict[str, bytes] = {}
        with psycopg.connect(template) as conn, conn.cursor() as cursor:
            queries = {t: f"COPY {t} ({c}) TO STDOUT" for t, c in FLOOR_TABLES.items()}
            queries["answers_null_when_identical"] = (
                "COPY (SELECT id, response_id, question_id, text, CASE WHEN redacted_text = "
                "text THEN NULL ELSE redacted_text END, options FROM answers) TO STDOUT"
            )
            for key, query in queries.items():
                data = bytearray()
                with cursor.copy(query) as copy:
                    for block in copy:
                        data += block
                payloads[key] = bytes(data)
            conn.execute("TRUNCATE respondents, responses, answers CASCADE")
            conn.commit()
        variants = _variants(template)
        chosen = [v for v in variants if not args.only or v in args.only.split(",")]
        results: dict[str, list[dict[str, float]]] = {"raw_copy": []}
        for _ in range(args.repeat):
            results["raw_copy"].append(_raw_copy(url, path, columns))
            for name in chosen:
                admin.execute(f'DROP DATABASE IF EXISTS "{WORK}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{WORK}" TEMPLATE "{TEMPLATE}"')
                work = _with_db(url, WORK)
                with psycopg.connect(work, autocommit=True) as conn:
                    for statement in variants[name]:
                        conn.execute(statement)
                data = dict(payloads)
                if name == "full_redacted_null_when_identical":
                    data["answers"] = payloads["answers_null_when_identical"]
                results.setdefault(name, []).append(_floor(work, data))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{WORK}" WITH (FORCE)')
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        admin.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    raw = results["raw_copy"]
    raw_s = statistics.median(r["seconds"] for r in raw)
    raw_cpu = statistics.median(r["cpu"] for r in raw)
    report: dict[str, Any] = {"rows": args.rows, "repeat": args.repeat}
    for name, runs in results.items():
        med = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
        med["ratio_to_raw_copy"] = round(raw_s / med["seconds"], 3)
        if med["cpu"]:
            med["cpu_ratio_to_raw_copy"] = round(raw_cpu / med["cpu"], 3)
        report[name] = med
    report["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
