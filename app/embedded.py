"""The embedded PostgreSQL used when DATABASE_URL is unset (the `pgserver` wheel)."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "consult"


class EmbeddedPostgres:
    """Starts (or joins) a pgserver instance in `data_dir/pg` and creates the app database."""

    def __init__(self, data_dir: Path, database: str = DATABASE_NAME):
        self.pgdata = (data_dir / "pg").resolve()
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._forget_dead_users()
        # "stop": the server stops when its last user (this process, a test run...) lets go.
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        self._create_database()
        log.info("embedded PostgreSQL running in %s", self.pgdata)
        return self.url

    def _forget_dead_users(self) -> None:
        """pgserver counts its users by PID; a process killed outright stays counted, and
        then the server would never be stopped. Drop PIDs that no longer run."""
        import psutil

        handles = self.pgdata / ".handle_pids.json"
        if handles.exists():
            try:
                pids = json.loads(handles.read_text())
            except ValueError:
                pids = []
            handles.write_text(json.dumps([p for p in pids if psutil.pid_exists(p)]))

    @property
    def url(self) -> str:
        base: str = self._server.get_uri(self.database)
        return base

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded PostgreSQL stopped")
