"""A per-process sliding-window limit on public submissions, by client address."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from fastapi import Request

from app.config import get_settings
from app.errors import RateLimited

WINDOW_SECONDS = 60.0
_recent: dict[str, deque[float]] = defaultdict(deque)


async def check_submission_rate(request: Request) -> None:
    """Raises 429 once an address has submitted `submissions_per_minute` times in a minute.

    Per process: behind several replicas put the same limit on the load balancer.
    """
    limit = get_settings().submissions_per_minute
    if limit <= 0:
        return
    address = request.client.host if request.client else "unknown"
    now = time.monotonic()
    window = _recent[address]
    while window and now - window[0] > WINDOW_SECONDS:
        window.popleft()
    if len(window) >= limit:
        raise RateLimited()
    window.append(now)


def reset() -> None:
    _recent.clear()
