"""Building the procrastinate App from settings, and running workers (foreground, in-process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from functools import lru_cache

from procrastinate import App, PsycopgConnector
from sqlalchemy import text

from app.config import get_settings
from app.db import libpq_url, make_engine, make_sessionmaker

log = logging.getLogger(__name__)

# In-process workers stop within this many seconds; chunks still running are aborted (their
# transaction rolls back) and re-queued by `recover` when a worker next starts.
SHUTDOWN_SECONDS = 10.0


def make_app(url: str) -> App:
    """A procrastinate App on `url` with Consult's tasks. Opens no connection by itself."""
    from app.jobs.tasks import register_tasks

    connector = PsycopgConnector(conninfo=libpq_url(url) if url else "")
    return register_tasks(App(connector=connector))


@lru_cache
def queue_app() -> App:
    """The API process's App (from settings), used only to defer jobs on the request's own
    connection, so its pool is never opened."""
    return make_app(get_settings().database_url or "")


async def run_worker(
    url: str,
    *,
    concurrency: int = 1,
    wait: bool = True,
    name: str = "consult-worker",
    install_signal_handlers: bool = True,
    listen_notify: bool = True,
) -> None:
    """Runs a worker on `url` until stopped (or, with wait=False, until the queue is empty)."""
    queue = make_app(url)
    engine = make_engine(url, pool_size=max(2, concurrency))
    sessionmaker = make_sessionmaker(engine)
    try:
        async with queue.open_async():
            from app.jobs.service import recover

            recovered = await recover(sessionmaker, queue)
            if recovered:
                log.info("re-queued %d interrupted jobs", recovered)
            await queue.run_worker_async(
                concurrency=concurrency,
                wait=wait,
                name=name,
                install_signal_handlers=install_signal_handlers,
                listen_notify=listen_notify,
                delete_jobs="successful",
                shutdown_graceful_timeout=SHUTDOWN_SECONDS,
                additional_context={"sessionmaker": sessionmaker},
            )
    finally:
        await engine.dispose()


async def live_workers(url: str) -> int:
    """Workers whose heartbeat is recent (procrastinate's stalled timeout is 30 s)."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text(
                    "SELECT count(*) FROM procrastinate_workers "
                    "WHERE last_heartbeat > now() - interval '30 seconds'"
                )
            )
            return int(count or 0)
    finally:
        await engine.dispose()


class InProcessWorker:
    """A worker in a background thread with its own event loop (`consult serve` on the
    embedded database, `consult analyse` when no worker runs). `stop()` lets running chunks
    finish (up to SHUTDOWN_SECONDS) and returns when the worker has unregistered."""

    def __init__(self, url: str, *, concurrency: int = 1):
        self.url = url
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="consult-worker", daemon=True)

    def start(self) -> InProcessWorker:
        self._thread.start()
        self._ready.wait(10)
        return self

    @property
    def alive(self) -> bool:
        """False once the worker stopped (or failed to start)."""
        return self._thread.is_alive()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(
                run_worker(
                    self.url,
                    concurrency=self.concurrency,
                    name="consult-in-process-worker",
                    install_signal_handlers=False,
                )
            )
            self._ready.set()
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("the in-process worker stopped with an error")
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = SHUTDOWN_SECONDS + 10) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            # Cancelling worker.run() makes procrastinate stop gracefully (RuntimeError: the
            # loop closed meanwhile).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the in-process worker did not stop within %.0f s", timeout)
        else:
            log.info("in-process worker stopped")

    def __enter__(self) -> InProcessWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
