"""`consult serve` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in (proc.info["name"] or "") and str(pgdata) in cmdline:
            found.append(proc)
    return found


def start_serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode()
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("consult serve did not become healthy")


def test_embedded_database_starts_migrates_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CONSULT_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    proc = start_serve(env, port)
    try:
        assert wait_healthy(port, proc)["status"] == "ok"
        pgdata = (tmp_path / "data" / "pg").resolve()
        assert postgres_processes(pgdata), "the embedded PostgreSQL should be running"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while postgres_processes(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postgres_processes(pgdata), "the embedded PostgreSQL should stop with the service"


def test_with_database_url_it_starts_no_database(tmp_path: Path, database_url: str) -> None:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["CONSULT_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    proc = start_serve(env, port)
    try:
        assert wait_healthy(port, proc)["status"] == "ok"
        assert not (tmp_path / "data" / "pg").exists()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
