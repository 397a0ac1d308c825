"""Where the tests' database lives: a fresh database on DATABASE_URL's server, or embedded."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from app.embedded import EmbeddedPostgres

TEST_DATABASE = "consult_test"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _recreate(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


class TestDatabase:
    """A database made for this test run; the one DATABASE_URL names is left intact."""

    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self.server_url = os.environ.get("DATABASE_URL")
        self.database = f"{TEST_DATABASE}_{os.getpid()}"

    def start(self) -> str:
        if not self.server_url:
            data_dir = Path(os.environ.get("CONSULT_TEST_DATA_DIR", ".consult/test")).resolve()
            self.embedded = EmbeddedPostgres(data_dir, database="postgres")
            self.server_url = self.embedded.start()
        _recreate(self.server_url, self.database)
        return _with_database(self.server_url, self.database)

    def stop(self) -> None:
        assert self.server_url
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        if self.embedded is not None:
            self.embedded.stop()
