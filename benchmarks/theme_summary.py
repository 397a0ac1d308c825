"""Theme summary speed on a proposal with N coded answers (default 1,000,000).

Builds, in a scratch database (on DATABASE_URL's server, dropped afterwards, or an embedded
PostgreSQL in a temporary folder), one consultation with one proposal: N respondents (10%
organisations, 13 regions, 6% without one), N responses (2% withdrawn, 1% excluded, 5% in
three campaigns),
N open-text answers, a current stance for 90% of responses, and a published codeframe of 20
themes with one to three current positive model codings per answer. Everything is bulk SQL
(generate_series) through the real tables, so the count triggers of migration 0007 run as
they would for analysis runs (in chunks of --chunk answers; their cost is reported).

Then it times the summary with and without filters, three ways: the service call
(`app.themes.service.summary` on an open session), the HTTP call (uvicorn in a subprocess,
one keep-alive client on loopback), and, for comparison, the plain count over the partial
index that the precomputed counts replace (no filters; and with the filters joined).

    uv run python benchmarks/theme_summary.py --answers 1000000

Prints JSON: p50 and p95 in milliseconds per filter set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import Server

THEMES = 20
REGIONS = [
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Scotland",
    "Wales",
    "Northern Ireland",
    "Outside the UK",
]
FILTER_SETS: dict[str, dict[str, str]] = {
    "no filters": {},
    "respondent_kind=individual": {"respondent_kind": "individual"},
    "region=London&stance=oppose": {"region": "London", "stance": "oppose"},
    "campaign=exclude": {"campaign": "exclude"},
    "campaign=separate": {"campaign": "separate"},
    "all four (organisation, Wales, support, separate)": {
        "respondent_kind": "organisation",
        "region": "Wales",
        "stance": "support",
        "campaign": "separate",
    },
}


STRUCTURE = [
    """
    INSERT INTO consultations (id, slug, title, description, status)
    VALUES (%(consultation)s, 'bench', 'Benchmark', '', 'open')
    """,
    """
    INSERT INTO proposals (id, consultation_id, title, summary, position)
    VALUES (%(proposal)s, %(consultation)s, 'Sharing data', '', 0)
    """,
    """
    INSERT INTO questions (id, proposal_id, number, text, kind, options, required,
        position)
    VALUES (%(question)s, %(proposal)s, '1', 'Why?', 'open_text', '[]', false, 0)
    """,
    """
    INSERT INTO codeframes (id, proposal_id, version, status)
    VALUES (%(codeframe)s, %(proposal)s, 1, 'draft')
    """,
    """
    INSERT INTO themes (codeframe_id, code, label, position)
    SELECT %(codeframe)s, 'P1-' || lpad(i::text, 2, '0'), 'Theme ' || i, i
    FROM generate_series(1, 20) i
    """,
    """
    UPDATE codeframes SET status = 'published', published_at = now() WHERE id = %(codeframe)s
    """,
    """
    INSERT INTO campaigns (consultation_id, template_text, member_count, label)
    SELECT %(consultation)s, 'Template ' || i, 0, 'Campaign ' || i
    FROM generate_series(1, 3) i
    """,
]


def build(url: str, answers: int, chunk: int) -> dict[str, Any]:
    """The proposal and its data; returns ids and how long each step took."""
    import psycopg

    from app.db import libpq_url

    timings: dict[str, float] = {}
    ids = {
        "consultation": uuid.uuid4(),
        "proposal": uuid.uuid4(),
        "question": uuid.uuid4(),
        "codeframe": uuid.uuid4(),
    }
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:

        def step(name: str, sql: str, params: dict[str, Any] | None = None) -> None:
            started = time.perf_counter()
            conn.execute(sql, params or {})
            timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - started, 2)
            print(f"{name}: {timings[name]} s", file=sys.stderr, flush=True)

        p = {k: str(v) for k, v in ids.items()} | {"n": answers, "regions": REGIONS}
        for statement in STRUCTURE:
            step("structure", statement, p)
        step(
            "respondents",
            """
            INSERT INTO respondents (id, consultation_id, kind, region, publication_consent,
                                     channel)
            SELECT md5('p' || i)::uuid, %(consultation)s,
                   CASE WHEN get_byte(h, 0) < 26 THEN 'organisation' ELSE 'individual' END,
                   CASE WHEN get_byte(h, 1) < 15 THEN NULL
                        ELSE (%(regions)s::text[])[1 + get_byte(h, 2) %% 13] END,
                   'publish', 'web'
            FROM generate_series(1, %(n)s::int) i, decode(md5('k' || i), 'hex') h
            """,
            p,
        )
        step(
            "responses",
            """
            INSERT INTO responses (id, consultation_id, respondent_id, receipt_code, status,
                                   channel, campaign_id)
            SELECT md5('s' || i)::uuid, %(consultation)s, md5('p' || i)::uuid, 'B' || i,
                   CASE WHEN get_byte(h, 0) < 5 THEN 'withdrawn'
                        WHEN get_byte(h, 0) < 8 THEN 'excluded' ELSE 'received' END,
                   'web',
                   CASE WHEN get_byte(h, 1) < 13 THEN
                        (ARRAY(SELECT id FROM campaigns ORDER BY label))[1 + get_byte(h, 2) %% 3]
                   END
            FROM generate_series(1, %(n)s::int) i, decode(md5('t' || i), 'hex') h
            """,
            p,
        )
        for start in range(1, answers + 1, chunk):
            q = p | {"lo": start, "hi": min(answers, start + chunk - 1)}
            step(
                "answers",
                """
                INSERT INTO answers (id, response_id, question_id, text, redacted_text)
                SELECT md5('a' || i)::uuid, md5('s' || i)::uuid, %(question)s,
                       'Answer number ' || i, 'Answer number ' || i
                FROM generate_series(%(lo)s::int, %(hi)s::int) i
                """,
                q,
            )
        for start in range(1, answers + 1, chunk):
            q = p | {"lo": start, "hi": min(answers, start + chunk - 1)}
            step(
                "stances",
                """
                INSERT INTO stances (response_id, proposal_id, value, source)
                SELECT md5('s' || i)::uuid, %(proposal)s,
                       (ARRAY['support', 'oppose', 'neutral', 'mixed'])[1 + get_byte(h, 1) %% 4],
                       'model'
                FROM generate_series(%(lo)s::int, %(hi)s::int) i, decode(md5('v' || i), 'hex') h
                WHERE get_byte(h, 0) >= 26
                """,
                q,
            )
        # As autovacuum would after a bulk import: the coding run's count triggers join the
        # new codings with answers, responses and stances, and need their statistics.
        step("analyze", "ANALYZE")
        run = str(uuid.uuid4())
        for start in range(1, answers + 1, chunk):
            q = p | {"lo": start, "hi": min(answers, start + chunk - 1), "run": run}
            step(
                "codings",
                """
                INSERT INTO codings (answer_id, theme_id, codeframe_id, present, source,
                                     run_id, confidence)
                SELECT DISTINCT ON (x.i, t.id) md5('a' || x.i)::uuid, t.id,
                       %(codeframe)s, true, 'model', %(run)s, 0.5 + (x.i %% 50) / 100.0
                FROM (
                    -- one to three themes per answer: always one, a second for a third of
                    -- the answers, a third for a fifth
                    SELECT i, 1 + get_byte(h, 0) %% 20 AS pos
                    FROM generate_series(%(lo)s::int, %(hi)s::int) i,
                         decode(md5('x' || i), 'hex') h
                    UNION ALL
                    SELECT i, 1 + get_byte(h, 2) %% 20
                    FROM generate_series(%(lo)s::int, %(hi)s::int) i,
                         decode(md5('x' || i), 'hex') h
                    WHERE get_byte(h, 1) < 85
                    UNION ALL
                    SELECT i, 1 + get_byte(h, 4) %% 20
                    FROM generate_series(%(lo)s::int, %(hi)s::int) i,
                         decode(md5('x' || i), 'hex') h
                    WHERE get_byte(h, 3) < 51
                ) x
                JOIN themes t ON t.codeframe_id = %(codeframe)s AND t.position = x.pos
                """,
                q,
            )
        step("vacuum analyze", "VACUUM ANALYZE")
        sizes = conn.execute(
            """SELECT (SELECT count(*) FROM codings), (SELECT count(*) FROM theme_counts),
                      (SELECT count(*) FROM answer_counts)"""
        ).fetchone()
        assert sizes is not None
    return {
        "ids": ids,
        "timings_s": timings,
        "codings": sizes[0],
        "theme_count_rows": sizes[1],
        "answer_count_rows": sizes[2],
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


async def time_service(url: str, proposal_id: uuid.UUID, repeats: int) -> dict[str, Any]:
    from app.db import make_engine, make_sessionmaker
    from app.themes import service
    from app.themes.schemas import Filters

    engine = make_engine(url, pool_size=1)
    results: dict[str, Any] = {}
    try:
        async with make_sessionmaker(engine)() as session:
            for name, params in FILTER_SETS.items():
                filters = Filters.model_validate(params)
                samples = []
                for i in range(repeats + 3):
                    started = time.perf_counter()
                    await service.summary(
                        session, proposal_id=proposal_id, user=None, filters=filters
                    )
                    if i >= 3:  # warm-up
                        samples.append(time.perf_counter() - started)
                results[name] = percentiles(samples)
    finally:
        await engine.dispose()
    return results


def direct_counts(url: str, ids: dict[str, uuid.UUID], repeats: int) -> dict[str, Any]:
    """What the counts replace: the plain count over the partial index, and with filters."""
    import psycopg

    from app.db import libpq_url

    queries = {
        "plain count over the partial index, no filters": """
            SELECT theme_id, count(*) FROM codings
            WHERE codeframe_id = %(codeframe)s AND is_current AND present GROUP BY theme_id""",
        "direct count with region=London&stance=oppose": """
            SELECT c.theme_id, count(*) FROM codings c
            JOIN answers a ON a.id = c.answer_id
            JOIN responses r ON r.id = a.response_id AND r.status = 'received'
            JOIN respondents p ON p.id = r.respondent_id AND p.region = 'London'
            JOIN stances s ON s.response_id = r.id AND s.proposal_id = %(proposal)s
                          AND s.is_current AND s.value = 'oppose'
            WHERE c.codeframe_id = %(codeframe)s AND c.is_current AND c.present
            GROUP BY c.theme_id""",
    }
    results = {}
    with psycopg.connect(libpq_url(url)) as conn:
        for name, sql in queries.items():
            samples = []
            for i in range(repeats + 1):
                started = time.perf_counter()
                conn.execute(sql, {k: str(v) for k, v in ids.items()}).fetchall()
                if i >= 1:
                    samples.append(time.perf_counter() - started)
            results[name] = percentiles(samples)
    return results


async def admin_token(url: str) -> str:
    from app.db import make_engine, make_sessionmaker
    from app.enums import Role
    from app.users import service as users

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            _, token = await users.create_user(
                session, email="bench@example.org", role=Role.admin, name="Bench"
            )
            await session.commit()
    finally:
        await engine.dispose()
    return token


def time_http(url: str, proposal_id: uuid.UUID, repeats: int) -> dict[str, Any]:
    import httpx

    token = asyncio.run(admin_token(url))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"DATABASE_URL": url, "CONSULT_SECRET_KEY": "bench"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    results: dict[str, Any] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            path = f"/api/v1/proposals/{proposal_id}/themes/summary"
            for name, params in FILTER_SETS.items():
                samples = []
                for i in range(repeats + 3):
                    started = time.perf_counter()
                    response = client.get(path, params=params)
                    elapsed = time.perf_counter() - started
                    assert response.status_code == 200, response.text
                    if i >= 3:
                        samples.append(elapsed)
                results[name] = percentiles(samples)
                if name == "no filters":
                    body = response.json()
                    results["(answers in scope, sum of theme counts)"] = [
                        body["n"],
                        body["coded_count"],
                    ]
    finally:
        server.terminate()
        server.wait(15)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000, help="answers per statement")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    from app import migrate

    server = Server()
    url = server.start()
    try:
        migrate.upgrade(url)
        built = build(url, args.answers, args.chunk)
        ids = built.pop("ids")
        report = {
            "answers": args.answers,
            "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded",
            "build": built,
            "service": asyncio.run(time_service(url, ids["proposal"], args.repeats)),
            "http": time_http(url, ids["proposal"], args.repeats),
            "baseline": direct_counts(url, ids, max(5, args.repeats // 20)),
        }
        print(json.dumps(report, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
