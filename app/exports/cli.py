"""`consult export`: one consultation's export to a file (or a ThemeFinder folder)."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.exports import service


def run_export(url: str, *, slug: str, fmt: str, out: Path, proposal: str | None = None) -> str:
    """Writes the export (the operator may export any consultation); returns a summary."""
    from app.cli import run_in_session

    fmt = fmt.strip().lower()
    try:
        proposal_id = uuid.UUID(proposal) if proposal else None
    except ValueError:
        raise NotFound(f"'{proposal}' is not a proposal id.") from None

    async def work(session: AsyncSession) -> str:
        target = await service.authorise(
            session, slug=slug, fmt=fmt, user=None, proposal_id=proposal_id, operator=True
        )
        return await service.export_to_path(session, target, out)

    return run_in_session(url, work)
