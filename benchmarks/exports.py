"""Export and report benchmark: how long each export format and the report take on a
generated consultation of N responses x 4 open-text answers, every answer coded against an
8-theme codeframe (model codings written through the normal set-based writer) with a model
stance per response.

    uv run python benchmarks/exports.py --rows 10000

Uses DATABASE_URL's server when set (in a fresh, dropped-afterwards database), otherwise an
embedded PostgreSQL in a temporary folder (see benchmarks/intake.py). Prints JSON: per
format the seconds, bytes and answers per second (median of --repeat runs), and the seconds
to build and render the report (the first, cold run apart).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.intake import Server, create_consultation, full_import, write_csv

THEMES = 8


async def code_everything(url: str, slug: str, seed: int) -> dict[str, Any]:
    from sqlalchemy import select, text

    from app.codeframes import service as codeframes
    from app.codeframes.models import Theme
    from app.codeframes.schemas import CodeframeCreate, ThemeIn
    from app.coding.service import (
        ModelCoding,
        ModelStance,
        write_model_codings,
        write_model_stances,
    )
    from app.consultations import service as consultations
    from app.consultations.models import Consultation, Proposal
    from app.db import make_engine, make_sessionmaker
    from app.enums import Role, Stance
    from app.users import service as users

    rng = random.Random(seed)
    engine = make_engine(url, pool_size=1)
    started = time.perf_counter()
    async with make_sessionmaker(engine)() as session:
        admin, _ = await users.create_user(
            session, email=f"bench-{uuid.uuid4().hex[:8]}@example.org", role=Role.admin
        )
        proposal_id = await session.scalar(
            select(Proposal.id)
            .join(Consultation, Consultation.id == Proposal.consultation_id)
            .where(Consultation.slug == slug)
        )
        assert proposal_id is not None
        draft = await codeframes.create_codeframe(
            session,
            proposal_id=proposal_id,
            user=admin,
            data=CodeframeCreate(themes=[ThemeIn(label=f"Theme {i}") for i in range(THEMES)]),
        )
        frame = await codeframes.publish(session, codeframe_id=draft.id, user=admin)
        theme_ids = list(
            await session.scalars(select(Theme.id).where(Theme.codeframe_id == frame.id))
        )
        rows = (
            await session.execute(
                text(
                    "SELECT a.id, a.response_id FROM answers a "
                    "JOIN responses r ON r.id = a.response_id "
                    "JOIN consultations c ON c.id = r.consultation_id WHERE c.slug = :slug"
                ),
                {"slug": slug},
            )
        ).all()
        codings = [
            ModelCoding(
                answer_id=answer_id,
                theme_id=theme_id,
                present=(p := rng.random()) < 0.2,
                confidence=p,
            )
            for answer_id, _ in rows
            for theme_id in theme_ids
        ]
        written = await write_model_codings(
            session, codeframe_id=frame.id, run_id=uuid.uuid4(), codings=codings
        )
        stances = list(Stance)
        responses = sorted({response_id for _, response_id in rows})
        await write_model_stances(
            session,
            proposal_id=proposal_id,
            run_id=uuid.uuid4(),
            stances=[
                ModelStance(response_id=r, value=rng.choice(stances), confidence=0.9)
                for r in responses
            ],
        )
        for action in ("close", "publish"):
            await consultations.change_status(session, slug=slug, action=action)
        await session.commit()
    await engine.dispose()
    return {"codings_written": written, "coding_seconds": time.perf_counter() - started}


async def time_exports(url: str, slug: str, repeat: int) -> dict[str, Any]:
    from app.db import make_engine, make_sessionmaker
    from app.exports import service as exports
    from app.reports import service as reports
    from app.reports.pages import static_html

    engine = make_engine(url, pool_size=1)
    out: dict[str, Any] = {}
    async with make_sessionmaker(engine)() as session:
        for fmt in exports.FORMATS:
            runs = []
            size = 0
            for _ in range(repeat):
                target = await exports.authorise(
                    session, slug=slug, fmt=fmt, user=None, operator=True
                )
                started = time.perf_counter()
                size = 0
                async for chunk in exports.stream_bytes(session, target):
                    size += len(chunk)
                runs.append(time.perf_counter() - started)
            out[fmt] = {"seconds": round(statistics.median(runs), 3), "bytes": size}
        report_runs = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            report = await reports.build_report(session, slug=slug, user=None, operator=True)
            html = static_html(report)
            report_runs.append(time.perf_counter() - started)
        out["report"] = {
            "cold_seconds": round(report_runs[0], 3),
            "seconds": round(statistics.median(report_runs[1:]), 3),
            "bytes": len(html.encode()),
        }
    await engine.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="responses (x 4 answers)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from app import migrate

    workdir = Path(tempfile.mkdtemp(prefix="consult-exports-"))
    path = workdir / "responses.csv"
    write_csv(path, args.rows, seed=args.seed)
    server = Server()
    url = server.start()
    try:
        migrate.upgrade(url)
        slug = "bench-" + uuid.uuid4().hex[:8]
        asyncio.run(create_consultation(url, slug))
        imported = asyncio.run(full_import(url, path, slug))
        coded = asyncio.run(code_everything(url, slug, args.seed))
        timings = asyncio.run(time_exports(url, slug, args.repeat))
    finally:
        server.stop()
    answers = int(imported["answers"])
    for fmt, figures in timings.items():
        if fmt != "report" and figures["seconds"]:
            figures["answers_per_second"] = round(answers / figures["seconds"])
    print(
        json.dumps(
            {
                "responses": int(imported["responses"]),
                "answers": answers,
                "themes": THEMES,
                **coded,
                "exports": timings,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
