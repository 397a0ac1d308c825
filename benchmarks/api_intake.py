"""API intake benchmark: responses per second and latency of POST .../responses.

    uv run python benchmarks/api_intake.py [--seconds 15] [--concurrency 32] [--workers 2]

Starts `uvicorn app.main:create_app` with N worker processes against DATABASE_URL (or an
embedded PostgreSQL in a temporary folder), creates an open consultation, and drives it
with a small asyncio HTTP/1.1 client on keep-alive connections (cheap, so most of the two
cores stay with the server and the database). Prints JSON: responses/s, p50/p99 latency,
errors, the number of rows actually stored and, since wall-clock figures are noisy on a
shared machine, the CPU time per 1,000 responses of the server processes, of PostgreSQL
(when it runs on this machine) and of the client, with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "Sharing data could help people get support sooner.",
    "I worry about who will see my records and for how long.",
    "There must be independent oversight and clear rules.",
    "Councils already hold this information and should use it better.",
    "Consent should be asked for every new use of my data.",
    "The savings should go back into front-line services.",
]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None if it is gone or hidden)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process, its live descendants and its reaped children."""
    if pid is None or (fields := _stat(pid)) is None:
        return None
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    for child in _children(pid):
        ticks += round((tree_cpu_seconds(child) or 0.0) * CLOCK_TICKS)
    return ticks / CLOCK_TICKS


def postmaster_pid(url: str) -> int | None:
    """PostgreSQL's main process, when it runs on this machine and /proc shows it."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        fields = _stat(int(row[0])) if row else None  # while the backend is alive
    return int(fields[1]) if fields else None


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_database(url: str) -> None:
    from app import migrate

    migrate.upgrade(url)


async def create_consultation(base: str, admin_token: str, slug: str) -> dict[str, Any]:
    from tests.factories import consultation_body

    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        created = await client.post(
            "/api/v1/consultations", json=consultation_body(slug), headers=headers
        )
        created.raise_for_status()
        opened = await client.post(f"/api/v1/consultations/{slug}/open", headers=headers)
        opened.raise_for_status()
        return dict(opened.json())


def admin_token(url: str) -> str:
    from app.cli import run_in_session
    from app.enums import Role
    from app.users.service import create_user

    async def work(session: Any) -> str:
        _, token = await create_user(
            session, email=f"bench-{time.time_ns()}@example.org", role=Role.admin
        )
        return token

    return run_in_session(url, work)


def request_bodies(detail: dict[str, Any], n: int, slug: str, port: int) -> list[bytes]:
    ids = {q["number"]: q["id"] for p in detail["proposals"] for q in p["questions"]}
    rng = random.Random(0)
    bodies = []
    for _ in range(n):
        payload = {
            "respondent": {
                "kind": rng.choice(["individual", "organisation"]),
                "organisation_name": "Bench Org",
                "publication_consent": "publish",
                "region": "London",
            },
            "answers": [
                {"question_id": ids["1"], "text": " ".join(rng.sample(SENTENCES, 3))},
                {"question_id": ids["2"], "options": [rng.choice(["Agree", "Disagree"])]},
                {"question_id": ids["3"], "text": " ".join(rng.sample(SENTENCES, 2))},
                {"question_id": ids["4"], "options": ["Consent", "Oversight"]},
            ],
        }
        body = json.dumps(payload).encode()
        head = (
            f"POST /api/v1/consultations/{slug}/responses HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        bodies.append(head + body)
    return bodies


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def client_loop(
    port: int,
    requests: list[bytes],
    stop_at: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = random.randrange(len(requests))
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def drive(
    port: int, requests: list[bytes], seconds: float, concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(client_loop(port, requests, stop_at, latencies, statuses) for _ in range(concurrency))
    )
    return latencies, statuses, time.perf_counter() - started


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


def run(url: str, seconds: float, concurrency: int, workers: int) -> dict[str, Any]:
    setup_database(url)
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        CONSULT_SUBMISSIONS_PER_MINUTE="0",
        CONSULT_SECRET_KEY="benchmark",
        CONSULT_DB_POOL_SIZE=str(max(4, concurrency // workers)),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_healthy(port, server)
        slug = f"bench-{time.time_ns()}"
        detail = asyncio.run(
            create_consultation(f"http://127.0.0.1:{port}", admin_token(url), slug)
        )
        requests = request_bodies(detail, 2000, slug, port)
        asyncio.run(drive(port, requests, min(3.0, seconds), concurrency))  # warm-up: pools, caches
        postgres = postmaster_pid(url)
        load_before = load_average()
        cpu_before = (
            tree_cpu_seconds(server.pid),
            tree_cpu_seconds(postgres),
            time.process_time(),
        )
        latencies, statuses, elapsed = asyncio.run(drive(port, requests, seconds, concurrency))
        cpu_after = (
            tree_cpu_seconds(server.pid),
            tree_cpu_seconds(postgres),
            time.process_time(),
        )
        load_after = load_average()
    finally:
        server.terminate()
        server.wait(timeout=30)
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM responses r JOIN consultations c ON c.id = r.consultation_id"
            " WHERE c.slug = %s",
            (slug,),
        ).fetchone()
    ok = statuses.get(201, 0)

    def per_thousand(i: int) -> float | None:
        before, after = cpu_before[i], cpu_after[i]
        if before is None or after is None or not ok:
            return None
        return round((after - before) * 1000 / ok, 3)

    return {
        "benchmark": "api_intake",
        "workers": workers,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "responses_per_second": round(ok / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "statuses": statuses,
        "stored_rows_including_warmup": stored[0] if stored else None,
        "cpu_seconds_per_1000_responses": {
            "server": per_thousand(0),
            "postgres": per_thousand(1),
            "client": per_thousand(2),
        },
        "load_average_before_after": [load_before, load_after],
        "cpu_count": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run_with_database(args.seconds, args.concurrency, args.workers)))


def run_with_database(seconds: float, concurrency: int, workers: int) -> dict[str, Any]:
    """On DATABASE_URL's server, or an embedded PostgreSQL in a temporary folder."""
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        return run(database_url, seconds, concurrency, workers)
    from app.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory() as folder:
        embedded = EmbeddedPostgres(Path(folder))
        try:
            return run(embedded.start(), seconds, concurrency, workers)
        finally:
            embedded.stop()


if __name__ == "__main__":
    main()
