"""A throwaway Consult for notebooks and experiments.

One call gives a real system on this machine: the embedded PostgreSQL in a temporary
directory (or `data_dir`), migrated, the API served in-process (an httpx client over ASGI,
no port opened), users with tokens, and a worker run on demand for the queued analysis
jobs. The same code paths as `consult serve`: nothing is mocked.

    sandbox = await Sandbox.start()
    admin = await sandbox.user("admin", "admin@example.org")
    response = await sandbox.client.get("/api/v1/consultations", headers=admin)
    await sandbox.work()       # run the queued jobs until the queue is empty
    await sandbox.close()      # stop the database (the directory stays until removed)
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

QUIET_LOGGERS = ("httpx", "procrastinate", "pgserver", "app", "alembic")


@dataclass
class Sandbox:
    data_dir: Path
    database_url: str
    client: httpx.AsyncClient
    sessionmaker: Any
    _engine: Any = field(repr=False)
    _embedded: Any = field(repr=False)
    _temporary: bool = field(default=False, repr=False)

    @classmethod
    async def start(cls, data_dir: Path | str | None = None, *, quiet: bool = True) -> Sandbox:
        """Starts the embedded PostgreSQL in `data_dir` (default: a new temporary folder),
        upgrades it to the latest migration and builds the API app on it. `quiet`: only
        warnings from the HTTP client, the job queue and the database server."""
        folder, embedded, url = await asyncio.to_thread(_boot, data_dir)
        if quiet:
            for name in QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
        from app.db import make_engine, make_sessionmaker
        from app.main import create_app

        engine = make_engine(url, pool_size=5)
        sessionmaker = make_sessionmaker(engine)
        app = create_app()
        app.state.sessionmaker = sessionmaker
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://consult", timeout=300
        )
        return cls(folder, url, client, sessionmaker, engine, embedded, data_dir is None)

    async def user(
        self, role: str, email: str, *, name: str | None = None, member_of: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """Creates a user with an API token; returns the headers that authenticate as them."""
        from app.consultations.service import add_member
        from app.enums import Role
        from app.users import service as users

        async with self.sessionmaker() as session:
            _, token = await users.create_user(
                session, email=email, role=Role(role), name=name or email.split("@")[0]
            )
            for slug in member_of:
                await add_member(session, slug=slug, email=email)
            await session.commit()
        return {"Authorization": f"Bearer {token}"}

    async def add_member(self, slug: str, email: str) -> None:
        from app.consultations.service import add_member

        async with self.sessionmaker() as session:
            await add_member(session, slug=slug, email=email)
            await session.commit()

    async def work(self) -> None:
        """Runs a worker until the job queue is empty (what `consult worker` does forever)."""
        from app.jobs.worker import run_worker

        await run_worker(
            self.database_url, wait=False, install_signal_handlers=False, listen_notify=False
        )

    async def run(self, response: httpx.Response) -> dict[str, Any]:
        """Given the 202 answer of a route that starts a run: works the queue, then returns
        the finished run as `GET /api/v1/jobs/{id}` shows it."""
        if response.status_code != 202:
            raise RuntimeError(f"{response.status_code}: {response.text}")
        run = response.json()
        await self.work()
        headers = {"Authorization": response.request.headers["authorization"]}
        finished = await self.client.get(f"/api/v1/jobs/{run['id']}", headers=headers)
        finished.raise_for_status()
        result: dict[str, Any] = finished.json()
        return result

    async def close(self, *, remove: bool | None = None) -> None:
        """Stops the database; removes a temporary data directory (or `remove=True`)."""
        await self.client.aclose()
        await self._engine.dispose()
        await asyncio.to_thread(self._embedded.stop)
        if remove if remove is not None else self._temporary:
            await asyncio.to_thread(shutil.rmtree, self.data_dir, ignore_errors=True)


def _boot(data_dir: Path | str | None) -> tuple[Path, Any, str]:
    """Blocking start-up: the folder, the database server, the migrations."""
    folder = Path(data_dir or tempfile.mkdtemp(prefix="consult-sandbox-")).resolve()
    os.environ["CONSULT_DATA_DIR"] = str(folder)
    from app.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(folder)
    url = embedded.start()
    # The app reads its settings once; this process's settings point at the sandbox.
    os.environ["DATABASE_URL"] = url
    from app.config import get_settings

    get_settings.cache_clear()
    from app import migrate

    migrate.upgrade(url)
    return folder, embedded, url
