"""Coding and stance runs for one proposal (run kinds `code` and `stance`).

A **code run** codes every open-text answer of the proposal against its published codeframe:

1. `start_run` checks the proposal has a published codeframe and at least one answer coded
   by an analyst, records the codeframe (id and version) and the coder's parameters in the
   run, and queues the run's chunks (the proposal's open-text answers, ordered by id).
2. The first chunk that runs fits `analysis.coding.ThemeCoder` once: on the analysts'
   current human codings of that codeframe (an answer is in the training set when it has at
   least one current human decision that is not marked `needs_review`; its label set is the
   themes decided present), the themes' labels, descriptions, guidance and examples, the
   proposal's other answers (vocabulary only) and the respondents' known stance (a human
   stance, else the stance question's answer). The fitted model is pickled into
   `run_artefacts` (its SHA-256 is the run's `artefact_hash`) together with the
   cross-validated per-theme precision, recall and F1 (in the run's `metrics`). A Postgres
   advisory lock on the run makes workers that share the run wait for that one fit.
3. Every chunk loads the artefact, predicts (skipping answers a person decided on every
   theme), and writes the model's decisions sparsely (see `code_decisions`: present themes,
   borderline absent ones, each answer's least certain absent one, and absent decisions that
   replace an earlier run's current one; no current decision means "not coded with it"),
   each with the model's probability as `confidence` and its evidence:
   threshold, nearest coded examples (answer ids and similarity) and the answer's terms that
   weigh most in the theme's profile (its coded examples plus its description).

**Rule: a model never overrides a person.** `write_model_codings` inserts a model decision
only where the (answer, theme) has no current decision after retiring other runs' model
decisions; a current human decision (including a confirmation from the review queue) stays.
A later run supersedes earlier runs' model decisions. A chunk re-run by the same run writes
nothing twice (the writer skips decisions this run already wrote; the chunk's success mark
commits with its codings), so an interrupted run re-runs without duplicates.

**Review band.** A model decision is *borderline* when its probability is within a factor
of two in odds of the theme's tuned threshold (|logit p - logit t| <= ln 2), or when the
decision rule selected the theme below its threshold (the top-1 fallback). Borderline
decisions carry `evidence.borderline = true` and, with carried decisions marked
`needs_review`, make up the proposal's review queue (app.coding.review).

A **stance run** writes one stance per response for the proposal: read from the stance
question where answered (confidence 1), otherwise predicted from the response's open-text
answers by `analysis.stance.StanceClassifier`, trained on the responses that have both text
and a known stance (a human stance or the stance question), with the packaged cross-topic
valence prior and self-training on the proposal's other answers. Human stances are never
overridden.

Same inputs and seed give identical decisions: training rows are put in an order that
depends only on their content, the seed is the coder's `random_state`, and prediction is
row by row.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import math
import pickle
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.codeframes.models import Theme
from app.codeframes.service import published_codeframe
from app.coding.models import RunArtefact
from app.coding.service import (
    CodeframeNotPublished,
    ModelCoding,
    ModelStance,
    write_model_codings,
    write_model_stances,
)
from app.consultations.models import Consultation, Proposal, Question
from app.db import refresh_stale_statistics
from app.enums import Stance as StanceValue
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.jobs.models import AnalysisRun, AnalysisRunChunk, RunKind
from app.jobs.service import (
    ChunkResult,
    combine_hashes,
    create_run,
    handler,
    item_hash,
    planner,
)
from app.users.models import User

if TYPE_CHECKING:
    from procrastinate import App

# A decision is borderline within this distance (log-odds) of its theme's threshold.
REVIEW_MARGIN = math.log(2.0)
# Uncoded answers used for the vocabulary at fit time (the first ones by id).
MAX_UNLABELLED = 20_000
# ThemeCoder parameters a run may set (others are refused).
CODER_PARAMETERS = (
    "read_positions",
    "model",
    "C",
    "pair_C",
    "n_neighbors",
    "ridge_alpha",
    "use_descriptions",
    "decision",
    "shrinkage",
    "embedding",
    "cv",
    "char_weight",
    "coverage",
    "linear",
)
EVIDENCE_TERMS = 5
EVIDENCE_EXAMPLES = 3


class NoCodedAnswers(Conflict):
    code = "no_coded_answers"
    message = "Code some answers by hand first: the model learns from the analysts' codings."


# --------------------------------------------------------------------------------------
# The proposal's questions
# --------------------------------------------------------------------------------------


@dataclass
class ProposalInputs:
    proposal: Proposal
    open_question_ids: list[uuid.UUID]
    stance_question_id: uuid.UUID | None
    stance_map: dict[str, str] = field(default_factory=dict)


async def proposal_inputs(session: AsyncSession, proposal_id: uuid.UUID) -> ProposalInputs:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.")
    questions = list(
        await session.scalars(select(Question).where(Question.proposal_id == proposal_id))
    )
    stance = next((q for q in questions if q.stance_map is not None), None)
    return ProposalInputs(
        proposal=proposal,
        open_question_ids=[q.id for q in questions if q.kind.value == "open_text"],
        stance_question_id=stance.id if stance else None,
        stance_map={str(k): str(v) for k, v in (stance.stance_map or {}).items()} if stance else {},
    )


_TEXT = "coalesce(a.redacted_text, a.text)"
# The proposal's codable answers: open-text answers with text, of responses not withdrawn or
# excluded. Reviewers and evidence only ever see the redacted text, so models learn from it.
_CODABLE = f"""
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    JOIN responses r ON r.id = a.response_id
    WHERE q.proposal_id = :proposal_id AND q.kind = 'open_text' AND r.status = 'received'
      AND {_TEXT} IS NOT NULL AND btrim({_TEXT}) <> ''
"""
_RANGE = (
    " AND (CAST(:lower AS uuid) IS NULL OR a.id >= :lower)"
    " AND (CAST(:upper AS uuid) IS NULL OR a.id < :upper)"
)


async def _chunk_plan(
    session: AsyncSession, ids_sql: str, params: dict[str, Any], size: int
) -> tuple[int, list[uuid.UUID]]:
    rows = (
        await session.execute(
            text(
                "SELECT id, total FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, "  # noqa: S608
                f"count(*) OVER () AS total FROM ({ids_sql}) u) s "
                "WHERE n % :size = 0 ORDER BY id"
            ),
            {**params, "size": size},
        )
    ).all()
    return (int(rows[0].total) if rows else 0), [row.id for row in rows]


def _need_proposal(proposal_id: uuid.UUID | None) -> uuid.UUID:
    if proposal_id is None:
        raise ValidationFailed(
            fields=[field_error(["proposal_id"], "Code and stance runs are per proposal.")]
        )
    return proposal_id


@planner(RunKind.code)
async def plan_code(
    session: AsyncSession, consultation_id: uuid.UUID, proposal_id: uuid.UUID | None, size: int
) -> tuple[int, list[uuid.UUID]]:
    return await _chunk_plan(
        session, f"SELECT a.id {_CODABLE}", {"proposal_id": _need_proposal(proposal_id)}, size
    )


# A stance run's unit is a response, represented by its first answer (by id) to the proposal:
# any open-text answer with text, or the stance question's answer.
_STANCE_UNITS = f"""
    SELECT a.response_id, min(a.id::text)::uuid AS id
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    JOIN responses r ON r.id = a.response_id
    WHERE q.proposal_id = :proposal_id AND r.status = 'received'
      AND ((q.kind = 'open_text' AND {_TEXT} IS NOT NULL AND btrim({_TEXT}) <> '')
           OR (q.stance_map IS NOT NULL AND cardinality(a.options) > 0))
    GROUP BY a.response_id
"""  # noqa: S608


@planner(RunKind.stance)
async def plan_stance(
    session: AsyncSession, consultation_id: uuid.UUID, proposal_id: uuid.UUID | None, size: int
) -> tuple[int, list[uuid.UUID]]:
    return await _chunk_plan(
        session,
        f"SELECT id FROM ({_STANCE_UNITS}) units",  # noqa: S608
        {"proposal_id": _need_proposal(proposal_id)},
        size,
    )


# --------------------------------------------------------------------------------------
# Starting a run
# --------------------------------------------------------------------------------------


def _coder_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(parameters) - set(CODER_PARAMETERS))
    if unknown:
        raise ValidationFailed(
            fields=[
                field_error(
                    ["parameters", name],
                    f"Unknown parameter; allowed: {', '.join(CODER_PARAMETERS)}.",
                    "unknown_parameter",
                )
                for name in unknown
            ]
        )
    return dict(sorted(parameters.items()))


async def _human_coded_count(session: AsyncSession, codeframe_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            text(
                "SELECT count(DISTINCT answer_id) FROM codings WHERE codeframe_id = :cf "
                "AND is_current AND source = 'human' AND NOT needs_review"
            ),
            {"cf": codeframe_id},
        )
        or 0
    )


async def start_run(
    session: AsyncSession,
    *,
    queue: App,
    proposal_id: uuid.UUID,
    kind: str,
    user: User | None,
    seed: int = 0,
    parameters: dict[str, Any] | None = None,
    chunk_size: int | None = None,
) -> AnalysisRun:
    """Queues a code or stance run for the proposal (access is checked by the caller)."""
    inputs = await proposal_inputs(session, proposal_id)
    consultation = await session.get(Consultation, inputs.proposal.consultation_id)
    assert consultation is not None  # a foreign key
    stored: dict[str, Any] = {}
    if kind == RunKind.code.value:
        codeframe = await published_codeframe(session, proposal_id)
        if codeframe is None:
            raise CodeframeNotPublished()
        if await _human_coded_count(session, codeframe.id) == 0:
            raise NoCodedAnswers()
        stored = {
            "codeframe_id": str(codeframe.id),
            "codeframe_version": codeframe.version,
            "coder": _coder_parameters(dict(parameters or {})),
        }
    elif kind == RunKind.stance.value:
        if parameters:
            raise ValidationFailed(
                fields=[field_error(["parameters"], "Stance runs take no parameters.")]
            )
        stored = {"stance_question_id": str(inputs.stance_question_id or "") or None}
    else:
        raise ValidationFailed(
            fields=[field_error(["kind"], "A proposal run is of kind code or stance.", "kind")]
        )
    return await create_run(
        session,
        queue=queue,
        consultation=consultation,
        kind=kind,
        user=user,
        parameters=stored,
        chunk_size=chunk_size,
        seed=seed,
        proposal_id=proposal_id,
    )


# --------------------------------------------------------------------------------------
# Artefacts: fitted once per run, shared by its chunks
# --------------------------------------------------------------------------------------

_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 4


def _remember(sha: str, model: Any) -> Any:
    _CACHE[sha] = model
    _CACHE.move_to_end(sha)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return model


async def load_artefact(session: AsyncSession, run_id: uuid.UUID) -> tuple[str, Any] | None:
    """(sha256, unpickled model bundle) of a run, or None. Cached per process by hash."""
    sha = await session.scalar(select(RunArtefact.sha256).where(RunArtefact.run_id == run_id))
    if sha is None:
        return None
    if sha in _CACHE:
        _CACHE.move_to_end(sha)
        return sha, _CACHE[sha]
    data = await session.scalar(select(RunArtefact.data).where(RunArtefact.run_id == run_id))
    assert data is not None
    # Trusted: written by this service's own runs into its own database.
    return sha, _remember(sha, pickle.loads(data))


async def _artefact(session: AsyncSession, run: AnalysisRun, fit: Any) -> Any:
    """The run's model: fitted and stored by the first chunk, loaded by the others."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"fit:{run.id}"}
    )
    found = await load_artefact(session, run.id)
    if found is not None:
        return found[1]
    clock = time.perf_counter()
    # Fresh planner statistics before the run's statements (after a bulk import they may say
    # the tables are empty: one INSERT INTO stances ran for minutes as a nested loop).
    await refresh_stale_statistics(session)
    analyze_seconds = time.perf_counter() - clock
    bundle, metrics = await fit(session, run)
    buffer = io.BytesIO()
    pickle.dump(bundle, buffer, protocol=5)
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    session.add(RunArtefact(run_id=run.id, sha256=sha, size=len(data), data=data))
    await session.flush()
    await session.execute(
        text(
            "UPDATE analysis_runs SET artefact_hash = :sha, "
            "metrics = metrics || CAST(:metrics AS jsonb), "
            "timings = timings || jsonb_build_object('fit_seconds', CAST(:seconds AS float8), "
            "'analyze_seconds', CAST(:analyze AS float8)) "
            "WHERE id = :id"
        ),
        {
            "sha": sha,
            "metrics": json.dumps(metrics),
            "seconds": round(time.perf_counter() - clock, 4),
            "analyze": round(analyze_seconds, 4),
            "id": run.id,
        },
    )
    return _remember(sha, bundle)


# --------------------------------------------------------------------------------------
# Known stance of responses (human stance, else the stance question)
# --------------------------------------------------------------------------------------


async def known_positions(
    session: AsyncSession, inputs: ProposalInputs, response_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str, uuid.UUID | None, str | None]]:
    """response id -> (stance, source 'human'|'stance_question', answer id, option)."""
    if not response_ids:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT i.id AS response_id,
                   (SELECT s.value FROM stances s WHERE s.response_id = i.id
                      AND s.proposal_id = :proposal_id AND s.is_current AND s.source = 'human')
                   AS human,
                   sa.id AS answer_id, sa.options
            FROM unnest(CAST(:ids AS uuid[])) AS i(id)
            LEFT JOIN answers sa ON sa.response_id = i.id AND sa.question_id = :question_id
            """
        ),
        {
            "ids": response_ids,
            "proposal_id": inputs.proposal.id,
            "question_id": inputs.stance_question_id,
        },
    )
    out: dict[uuid.UUID, tuple[str, str, uuid.UUID | None, str | None]] = {}
    for row in rows:
        if row.human:
            out[row.response_id] = (str(row.human), "human", None, None)
            continue
        for option in row.options or []:
            value = inputs.stance_map.get(option)
            if value:
                out[row.response_id] = (value, "stance_question", row.answer_id, option)
                break
    return out


# --------------------------------------------------------------------------------------
# Code runs
# --------------------------------------------------------------------------------------


def _content_order(rows: list[Any], text_of: Any, tie: Any = lambda r: ()) -> list[Any]:
    """Rows in an order that depends only on their content (not on random ids): by their
    text, then by ``tie(row)`` for rows with the same text."""
    return sorted(
        rows,
        key=lambda r: (hashlib.sha256(text_of(r).encode()).hexdigest(), text_of(r), *tie(r)),
    )


def theme_description(theme: Theme) -> str:
    parts = [f"{theme.label}: {theme.description}".strip().rstrip(":")]
    if theme.include_guidance:
        parts.append(theme.include_guidance)
    parts += [str(e) for e in theme.examples or []]
    return ". ".join(p for p in parts if p)


@dataclass
class CodeModel:
    """What a code run pickles: the fitted coder and what the chunks need besides it."""

    coder: Any
    theme_ids: dict[str, str]  # theme code -> theme id
    thresholds: dict[str, float]
    vectorizer: Any  # TF-IDF for evidence (nearest examples, terms)
    seed_matrix: Any
    seed_answer_ids: list[str]
    seed_labels: list[list[str]]
    profiles: Any  # theme x term weights (coded examples + description)
    position_classes: list[str] = field(default_factory=list)
    read_positions: bool = True


async def _fit_code(session: AsyncSession, run: AnalysisRun) -> tuple[CodeModel, dict[str, Any]]:
    assert run.proposal_id is not None
    codeframe_id = uuid.UUID(run.parameters["codeframe_id"])
    inputs = await proposal_inputs(session, run.proposal_id)
    themes = list(
        await session.scalars(
            select(Theme).where(Theme.codeframe_id == codeframe_id).order_by(Theme.position)
        )
    )
    code_of = {t.id: t.code for t in themes}
    coded = list(await _coded_rows(session, run.proposal_id, codeframe_id))
    positions_by_response = await known_positions(
        session, inputs, list({r.response_id for r in coded})
    )

    def codes_and_stance(r: Any) -> tuple[list[str], str]:
        # Answers with the same text keep one order whatever order the database returned
        # them in (it depends on the plan).
        known = positions_by_response.get(r.response_id)
        return (
            sorted(code_of[t] for t in r.present or [] if t in code_of),
            known[0] if known else "",
        )

    coded = _content_order(coded, lambda r: r.text, codes_and_stance)
    params = dict(run.parameters.get("coder") or {})
    uncoded = (
        await session.execute(
            text(
                f"SELECT a.id, a.response_id, {_TEXT} AS text {_CODABLE} AND NOT EXISTS ("  # noqa: S608
                "SELECT 1 FROM codings h WHERE h.answer_id = a.id AND h.codeframe_id = :cf "
                "AND h.is_current AND h.source = 'human' AND NOT h.needs_review) "
                "ORDER BY a.id LIMIT :limit"
            ),
            {"proposal_id": run.proposal_id, "cf": codeframe_id, "limit": MAX_UNLABELLED},
        )
    ).all()
    unlabelled = sorted(r.text for r in uncoded)
    texts = [r.text for r in coded]
    labels = [sorted(code_of[t] for t in r.present or [] if t in code_of) for r in coded]
    positions = [
        positions_by_response[r.response_id][0] if r.response_id in positions_by_response else None
        for r in coded
    ]
    # Where most answers to code have a known stance (the stance question), the coder reads
    # it at prediction time; otherwise it learns from the stance it predicts from the text,
    # as it will have to at prediction time.
    uncoded_known = await known_positions(session, inputs, list({r.response_id for r in uncoded}))
    read_share = (
        sum(1 for r in uncoded if r.response_id in uncoded_known) / len(uncoded) if uncoded else 1.0
    )
    if "read_positions" not in params:
        params["read_positions"] = read_share >= 0.5
    descriptions = {t.code: theme_description(t) for t in themes}
    if not texts:
        raise NoCodedAnswers()
    seed = run.seed

    def fit() -> tuple[CodeModel, dict[str, Any]]:
        from analysis.coding import ThemeCoder

        coder = ThemeCoder(random_state=seed, **params)
        use_positions = len({p for p in positions if p}) >= 2
        coder.fit(
            texts,
            labels,
            theme_descriptions=descriptions,
            unlabelled_texts=unlabelled,
            positions=positions if use_positions else None,
        )
        return _code_model(coder, themes, coded, texts, labels, descriptions), _cv_metrics(
            coder, labels, [t.code for t in themes]
        ) | {
            "training_count": len(texts),
            "training_hash": combine_hashes(
                item_hash(r.id, json.dumps([r.text, lab]))
                for r, lab in zip(coded, labels, strict=True)
            ),
            "training_positions": sum(1 for p in positions if p),
            "read_positions": bool(params.get("read_positions")),
            "known_position_share": round(read_share, 4),
            "codeframe_version": run.parameters.get("codeframe_version"),
        }

    return await asyncio.to_thread(fit)


async def _coded_rows(
    session: AsyncSession, proposal_id: uuid.UUID, codeframe_id: uuid.UUID
) -> list[Any]:
    """The answers analysts coded (current human decisions), with the themes present."""
    return list(
        (
            await session.execute(
                text(
                    f"""
                    SELECT a.id, a.response_id, {_TEXT} AS text,
                           array_remove(array_agg(h.theme_id) FILTER (WHERE h.present), NULL)
                           AS present
                    FROM answers a
                    JOIN questions q ON q.id = a.question_id
                    JOIN responses r ON r.id = a.response_id
                    JOIN codings h ON h.answer_id = a.id AND h.codeframe_id = :cf
                         AND h.is_current AND h.source = 'human' AND NOT h.needs_review
                    WHERE q.proposal_id = :proposal_id AND q.kind = 'open_text'
                      AND r.status = 'received'
                      AND {_TEXT} IS NOT NULL AND btrim({_TEXT}) <> ''
                    GROUP BY a.id, a.response_id, {_TEXT}
                    """  # noqa: S608
                ),
                {"proposal_id": proposal_id, "cf": codeframe_id},
            )
        ).all()
    )


def _code_model(
    coder: Any,
    themes: list[Theme],
    coded: list[Any],
    texts: list[str],
    labels: list[list[str]],
    descriptions: dict[str, str],
) -> CodeModel:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    classes = [str(c) for c in coder.classes_]
    raw_thr = getattr(coder, "thresholds_", None)
    thresholds = {
        c: float(raw_thr[i]) if raw_thr is not None else 0.5 for i, c in enumerate(classes)
    }
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, ngram_range=(1, 1))
    vectorizer.fit(texts + [d for d in descriptions.values() if d])
    seed_matrix = vectorizer.transform(texts)
    desc_matrix = vectorizer.transform([descriptions.get(c, "") for c in classes])
    Y = np.zeros((len(texts), len(classes)), dtype=np.float64)
    index = {c: i for i, c in enumerate(classes)}
    for i, labs in enumerate(labels):
        for lab in labs:
            if lab in index:
                Y[i, index[lab]] = 1.0
    counts = np.maximum(Y.sum(0), 1.0)
    centroid = np.asarray((seed_matrix.T @ Y).T) / counts[:, None]
    profiles = centroid + np.asarray(desc_matrix.toarray())
    return CodeModel(
        coder=coder,
        theme_ids={t.code: str(t.id) for t in themes},
        thresholds=thresholds,
        vectorizer=vectorizer,
        seed_matrix=seed_matrix,
        seed_answer_ids=[str(r.id) for r in coded],
        seed_labels=labels,
        profiles=profiles.astype(np.float32),
        position_classes=[str(c) for c in _listed(getattr(coder, "position_classes_", None))],
        read_positions=bool(getattr(coder, "read_positions", True)),
    )


def _listed(values: Any) -> list[Any]:
    return [] if values is None else list(values)


def _cv_metrics(coder: Any, labels: list[list[str]], codes: list[str]) -> dict[str, Any]:
    """Cross-validated (out-of-fold) per-theme precision, recall, F1 on the training codings."""
    oof = getattr(coder, "oof_proba_", None)
    if oof is None:
        return {}
    predicted = coder.decode(oof)
    from analysis.coding import micro_macro_f1, sample_f1

    themes: dict[str, dict[str, float | int]] = {}
    for code in codes:
        tp = sum(1 for g, p in zip(labels, predicted, strict=True) if code in g and code in p)
        fp = sum(1 for g, p in zip(labels, predicted, strict=True) if code not in g and code in p)
        fn = sum(1 for g, p in zip(labels, predicted, strict=True) if code in g and code not in p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        themes[code] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    micro, macro = micro_macro_f1(labels, predicted, codes)
    return {
        "cv": {
            "folds": int(getattr(coder, "cv", 0) or 0),
            "sample_f1": round(sample_f1(labels, predicted), 4),
            "micro_f1": round(micro, 4),
            "macro_f1": round(macro, 4),
            "themes": themes,
        }
    }


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _round6(P: Any) -> Any:
    """round(p, 6) of every element, as Python rounds (what is stored), in numpy: rint(p * 1e6)
    / 1e6 is the same except where p * 1e6 is within rounding error of a half, which are
    rounded one by one."""
    import numpy as np

    scaled = P * 1e6
    Q = np.rint(scaled) / 1e6
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for i, j in zip(*np.nonzero(near_half), strict=True):
        Q[i, j] = round(float(P[i, j]), 6)
    return Q


def _evidence(
    model: CodeModel, X: Any, S: Any, explain: Any, classes: list[str]
) -> tuple[dict[tuple[int, int], list[list[Any]]], dict[tuple[int, int], list[dict[str, Any]]]]:
    """For each (answer row, theme column) in ``explain``: the answer's terms that weigh most
    in the theme's profile, and its nearest seed answers coded with the theme (when ``S``,
    the similarities to the seed, is given). Computed per theme over its rows."""
    import numpy as np

    vocabulary = model.vectorizer.get_feature_names_out()
    terms: dict[tuple[int, int], list[list[Any]]] = {}
    examples: dict[tuple[int, int], list[dict[str, Any]]] = {}
    indptr, indices, data = X.indptr, X.indices, X.data
    lengths = np.diff(indptr)
    row_of = np.repeat(np.arange(X.shape[0]), lengths)
    offset = np.arange(len(indices)) - np.repeat(indptr[:-1], lengths)
    for j, code in enumerate(classes):
        rows = np.flatnonzero(explain[:, j])
        if not len(rows):
            continue
        # The answer's terms by weight in the theme's profile (stable: term order on ties).
        take = np.isin(row_of, rows)
        weights = data[take] * model.profiles[j, indices[take]]
        order = np.lexsort((offset[take], -weights, row_of[take]))
        w_sorted, r_sorted, t_sorted = weights[order], row_of[take][order], indices[take][order]
        starts = np.searchsorted(r_sorted, rows)
        ends = np.searchsorted(r_sorted, rows, side="right")
        for i, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
            b = min(b, a + EVIDENCE_TERMS)
            terms[i, j] = [
                [str(vocabulary[t_sorted[k]]), round(float(w_sorted[k]), 4)]
                for k in range(a, b)
                if w_sorted[k] > 0
            ]
        if S is not None:
            pos = np.flatnonzero([code in labs for labs in model.seed_labels])
            near = pos[
                np.argsort(-S[np.ix_(rows, pos)], axis=1, kind="stable")[:, :EVIDENCE_EXAMPLES]
            ]
            for i, ks in zip(rows.tolist(), near.tolist(), strict=True):
                examples[i, j] = [
                    {"answer_id": model.seed_answer_ids[k], "similarity": round(float(S[i, k]), 4)}
                    for k in ks
                ]
    return terms, examples


def code_decisions(
    model: CodeModel,
    answer_ids: list[uuid.UUID],
    texts: list[str],
    positions: list[str | None],
    supersede: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
    human: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
) -> tuple[list[ModelCoding], list[list[str]]]:
    """The model's decisions that are worth storing, and each answer's label set.

    Decisions are sparse: an answer's stored decisions are its present themes, its borderline
    absent ones (the review queue), the absent theme the model is least sure of (so a coded
    answer always has a row, and its least certain decision is the same as if every theme had
    been written: audit-sample strata), and an absent decision for each (answer, theme) in
    `supersede` (current decisions of earlier model runs this run replaces). A theme with no
    current decision for an answer means the answer is not coded with it. (answer, theme)
    pairs in `human` have a current decision by a person, which a model never replaces: they
    get no decision.
    """
    import numpy as np

    coder = model.coder
    known = set(model.position_classes) if model.read_positions else set()
    usable = [p if p in known else None for p in positions] if known else None
    P = coder.predict_proba(texts, positions=usable) if usable else coder.predict_proba(texts)
    label_sets = coder.decode(P)
    classes = [str(c) for c in coder.classes_]
    n, T = P.shape
    X = model.vectorizer.transform(texts).tocsr()
    S = np.asarray((X @ model.seed_matrix.T).toarray()) if len(model.seed_answer_ids) else None
    thresholds = np.asarray([model.thresholds.get(c, 0.5) for c in classes], dtype=np.float64)
    Pc = np.clip(P, 1e-6, 1 - 1e-6)
    Tc = np.clip(thresholds, 1e-6, 1 - 1e-6)
    margin = np.abs(np.log(Pc / (1 - Pc)) - np.log(Tc / (1 - Tc))[None, :])
    column = {c: j for j, c in enumerate(classes)}
    chosen = np.zeros((n, T), dtype=bool)
    for i, labs in enumerate(label_sets):
        chosen[i, [column[c] for c in labs]] = True
    borderline = (margin <= REVIEW_MARGIN) | (chosen & (thresholds[None, :] > P))
    theme_uuid = [uuid.UUID(model.theme_ids[c]) if c in model.theme_ids else None for c in classes]
    # (answer, theme) pairs a model may decide on: the theme is in the codeframe and no
    # person decided on it.
    open_ = np.tile(np.asarray([t is not None for t in theme_uuid], dtype=bool), (n, 1))
    row_index = {a: i for i, a in enumerate(answer_ids)}
    theme_column = {t: j for j, t in enumerate(theme_uuid) if t is not None}
    for decided_answer, decided_theme in human:
        if decided_answer in row_index and decided_theme in theme_column:
            open_[row_index[decided_answer], theme_column[decided_theme]] = False
    # The absent theme with the least certain decision (as stored, first on ties).
    Q = _round6(P)
    certainty = np.where(open_ & ~chosen, np.maximum(Q, 1.0 - Q), 2.0)
    anchor = np.where(certainty.min(1) < 2.0, certainty.argmin(1), -1) if T else np.zeros(0)
    # Evidence for the present and borderline decisions.
    terms, examples = _evidence(model, X, S, open_ & (chosen | borderline), classes)
    out: list[ModelCoding] = []
    for i, answer_id in enumerate(answer_ids):
        p_row = P[i].tolist()
        for j in range(T):
            theme_id = theme_uuid[j]
            if theme_id is None or not open_[i, j]:
                continue
            present = bool(chosen[i, j])
            is_borderline = bool(borderline[i, j])
            if not (
                present or is_borderline or j == anchor[i] or (answer_id, theme_id) in supersede
            ):
                continue
            p = p_row[j]
            evidence: dict[str, Any] = {
                "probability": round(p, 4),
                "threshold": round(float(thresholds[j]), 4),
                "borderline": is_borderline,
            }
            if present or is_borderline:
                evidence["terms"] = terms[i, j]
                if S is not None:
                    evidence["examples"] = examples[i, j]
            out.append(
                ModelCoding(
                    answer_id=answer_id,
                    theme_id=theme_id,
                    present=present,
                    confidence=round(p, 6),
                    evidence=evidence,
                )
            )
    return out, label_sets


# (The theme ids of an answer a person decided on every theme are not sent: it is skipped.)
_CURRENT_DECISIONS = """
    SELECT answer_id, all_human, CASE WHEN all_human THEN NULL ELSE human END AS human,
           CASE WHEN all_human THEN NULL ELSE stale END AS stale
    FROM (
        SELECT c.answer_id,
               count(*) FILTER (WHERE c.source <> 'model')
                   >= (SELECT count(*) FROM themes t WHERE t.codeframe_id = :cf) AS all_human,
               array_agg(c.theme_id) FILTER (WHERE c.source <> 'model') AS human,
               array_agg(c.theme_id)
                   FILTER (WHERE c.source = 'model' AND c.run_id IS DISTINCT FROM :run_id)
                   AS stale
        FROM codings c
        WHERE c.codeframe_id = :cf AND c.is_current AND c.answer_id = ANY(:ids)
        GROUP BY c.answer_id
    ) d
"""


@handler(RunKind.code)
async def code_chunk(
    session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk
) -> ChunkResult:
    assert run.proposal_id is not None
    clock = [time.perf_counter()]
    cpu_clock = [time.process_time()]
    cpu: dict[str, float] = {}

    def lap(step: str) -> float:
        clock.append(time.perf_counter())
        cpu_clock.append(time.process_time())
        cpu[f"{step}_cpu_seconds"] = round(cpu_clock[-1] - cpu_clock[-2], 4)
        return round(clock[-1] - clock[-2], 4)

    model: CodeModel = await _artefact(session, run, _fit_code)
    model_seconds = lap("model")
    inputs = await proposal_inputs(session, run.proposal_id)
    rows = (
        await session.execute(
            text(f"SELECT a.id, a.response_id, {_TEXT} AS text {_CODABLE} {_RANGE} ORDER BY a.id"),
            {"proposal_id": run.proposal_id, "lower": chunk.lower_id, "upper": chunk.upper_id},
        )
    ).all()
    codeframe_id = uuid.UUID(run.parameters["codeframe_id"])
    # Current decisions on the chunk's answers: a person's (never replaced by a model; an
    # answer a person decided on every theme is not predicted at all) and earlier model
    # runs' (each replaced by this run's decision, written even when absent).
    human: set[tuple[uuid.UUID, uuid.UUID]] = set()
    supersede: set[tuple[uuid.UUID, uuid.UUID]] = set()
    human_done: set[uuid.UUID] = set()
    for c in await session.execute(
        text(_CURRENT_DECISIONS),
        {"cf": codeframe_id, "ids": [r.id for r in rows], "run_id": run.id},
    ):
        if c.all_human:
            human_done.add(c.answer_id)
            continue
        human.update((c.answer_id, t) for t in c.human or ())
        supersede.update((c.answer_id, t) for t in c.stale or ())
    todo = [r for r in rows if r.id not in human_done]
    known = await known_positions(session, inputs, list({r.response_id for r in todo}))
    positions = [known[r.response_id][0] if r.response_id in known else None for r in todo]
    read_seconds = lap("read")
    decisions, label_sets = (
        await asyncio.to_thread(
            code_decisions,
            model,
            [r.id for r in todo],
            [r.text for r in todo],
            positions,
            supersede,
            human,
        )
        if todo
        else ([], [])
    )
    predict_seconds = lap("predict")
    written = await write_model_codings(
        session, codeframe_id=codeframe_id, run_id=run.id, codings=decisions
    )
    write_seconds = lap("write")
    return ChunkResult(
        done=len(rows),
        data_hash=combine_hashes(item_hash(r.id, r.text) for r in rows),
        output_hash=combine_hashes(
            item_hash(r.id, json.dumps(sorted(labs)))
            for r, labs in zip(todo, label_sets, strict=True)
        ),
        metrics={
            "answers": len(rows),
            "answers_predicted": len(todo),
            "codings_written": written,
            "codings_present": sum(len(labs) for labs in label_sets),
            "borderline": sum(1 for d in decisions if d.evidence.get("borderline")),
            # Wall seconds of the chunk's steps (fit or load, read, predict + evidence, write).
            "model_seconds": model_seconds,
            "read_seconds": read_seconds,
            "predict_seconds": predict_seconds,
            "write_seconds": write_seconds,
            # CPU seconds of this process (all threads) over the same steps.
            **cpu,
        },
    )


# --------------------------------------------------------------------------------------
# Stance runs
# --------------------------------------------------------------------------------------


@dataclass
class StanceModel:
    classifier: Any  # None when fewer than two stances are known
    classes: list[str]


_RESPONSE_TEXT = f"""
    SELECT a.response_id, string_agg({_TEXT}, E'\\n' ORDER BY q.position, a.id) AS text,
           (array_agg(a.id ORDER BY q.position, a.id))[1] AS answer_id
    FROM answers a
    JOIN questions q ON q.id = a.question_id
    WHERE q.proposal_id = :proposal_id AND q.kind = 'open_text'
      AND {_TEXT} IS NOT NULL AND btrim({_TEXT}) <> ''
      AND a.response_id = ANY(CAST(:response_ids AS uuid[]))
    GROUP BY a.response_id
"""  # noqa: S608


async def _fit_stance(
    session: AsyncSession, run: AnalysisRun
) -> tuple[StanceModel, dict[str, Any]]:
    assert run.proposal_id is not None
    inputs = await proposal_inputs(session, run.proposal_id)
    units = (await session.execute(text(_STANCE_UNITS), {"proposal_id": run.proposal_id})).all()
    response_ids = [u.response_id for u in units]
    known = await known_positions(session, inputs, response_ids)
    texts = {
        r.response_id: r.text
        for r in await session.execute(
            text(_RESPONSE_TEXT),
            {"proposal_id": run.proposal_id, "response_ids": response_ids},
        )
    }
    train = _content_order(
        [(texts[rid], known[rid][0]) for rid in response_ids if rid in known and rid in texts],
        lambda r: r[0] + "\x1f" + r[1],
    )
    unlabelled = sorted(t for rid, t in texts.items() if rid not in known)[:MAX_UNLABELLED]
    seed = run.seed

    def fit() -> tuple[StanceModel, dict[str, Any]]:
        from analysis.stance import StanceClassifier

        classes = sorted({y for _, y in train})
        metrics: dict[str, Any] = {
            "training_count": len(train),
            "training_hash": combine_hashes(
                hashlib.sha256(f"{t}\x1f{y}".encode()).hexdigest() for t, y in train
            ),
            "stance_classes": classes,
        }
        if len(classes) < 2:
            return StanceModel(None, classes), metrics
        clf = StanceClassifier(random_state=seed)
        clf.fit([t for t, _ in train], [y for _, y in train], unlabelled_texts=unlabelled)
        metrics["cv"] = _stance_cv(train, seed)
        return StanceModel(clf, [str(c) for c in clf.classes_]), metrics

    return await asyncio.to_thread(fit)


def _stance_cv(train: list[tuple[str, str]], seed: int) -> dict[str, Any]:
    """5-fold cross-validated accuracy of the text stance model on its training answers."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from analysis.stance import StanceClassifier

    y = np.asarray([lab for _, lab in train], dtype=object)
    counts = {c: int((y == c).sum()) for c in set(y.tolist())}
    # Rare stances (fewer members than folds) are spread over the folds as far as they go.
    folds = min(5, sorted(counts.values())[-2] if len(counts) > 1 else 0)
    if folds < 2:
        return {}
    texts = [t for t, _ in train]
    correct = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y))
    for tr, te in splits:
        clf = StanceClassifier(random_state=seed).fit([texts[i] for i in tr], y[tr])
        correct += int((clf.predict([texts[i] for i in te]) == y[te]).sum())
    return {"folds": folds, "accuracy": round(correct / len(train), 4)}


@handler(RunKind.stance)
async def stance_chunk(
    session: AsyncSession, run: AnalysisRun, chunk: AnalysisRunChunk
) -> ChunkResult:
    assert run.proposal_id is not None
    model: StanceModel = await _artefact(session, run, _fit_stance)
    inputs = await proposal_inputs(session, run.proposal_id)
    units = (
        await session.execute(
            text(
                f"SELECT response_id, id FROM ({_STANCE_UNITS}) u WHERE TRUE "  # noqa: S608
                + _RANGE.replace("a.id", "u.id")
                + " ORDER BY id"
            ),
            {"proposal_id": run.proposal_id, "lower": chunk.lower_id, "upper": chunk.upper_id},
        )
    ).all()
    response_ids = [u.response_id for u in units]
    known = await known_positions(session, inputs, response_ids)
    texts = {
        r.response_id: (r.text, r.answer_id)
        for r in await session.execute(
            text(_RESPONSE_TEXT),
            {"proposal_id": run.proposal_id, "response_ids": response_ids},
        )
    }
    stances: list[ModelStance] = []
    predict = [rid for rid in response_ids if rid not in known and rid in texts]
    predicted: dict[uuid.UUID, tuple[str, float, dict[str, float]]] = {}
    if predict and model.classifier is not None:
        clf = model.classifier

        def run_model() -> Any:
            return clf.predict_proba([texts[rid][0] for rid in predict])

        P = await asyncio.to_thread(run_model)
        for rid, row in zip(predict, P, strict=True):
            k = int(row.argmax())
            predicted[rid] = (
                model.classes[k],
                float(row[k]),
                {c: round(float(v), 4) for c, v in zip(model.classes, row, strict=True)},
            )
    elif predict and len(model.classes) == 1:
        # Every known stance is the same: that is the only one the text model could give.
        only = model.classes[0]
        predicted = {rid: (only, 1.0, {only: 1.0}) for rid in predict}
    outputs: list[tuple[uuid.UUID, str]] = []
    for rid in response_ids:
        if rid in known:
            value, source, answer_id, option = known[rid]
            if source == "human":
                outputs.append((rid, value))
                continue
            stances.append(
                ModelStance(
                    response_id=rid,
                    value=StanceValue(value),
                    answer_id=answer_id,
                    confidence=1.0,
                    evidence={"source": "stance_question", "option": option},
                )
            )
            outputs.append((rid, value))
        elif rid in predicted:
            value, confidence, probabilities = predicted[rid]
            stances.append(
                ModelStance(
                    response_id=rid,
                    value=StanceValue(value),
                    answer_id=texts[rid][1],
                    confidence=round(confidence, 6),
                    evidence={"source": "text", "probabilities": probabilities},
                )
            )
            outputs.append((rid, value))
    written = await write_model_stances(
        session, proposal_id=run.proposal_id, run_id=run.id, stances=stances
    )
    return ChunkResult(
        done=len(units),
        data_hash=combine_hashes(
            item_hash(rid, texts.get(rid, ("",))[0] + "\x1f" + str(known.get(rid, ("",))[0]))
            for rid in response_ids
        ),
        output_hash=combine_hashes(item_hash(rid, value) for rid, value in outputs),
        metrics={
            "responses": len(units),
            "stances_written": written,
            "stances_read": sum(
                1 for s in stances if s.evidence.get("source") == "stance_question"
            ),
            "stances_predicted": sum(1 for s in stances if s.evidence.get("source") == "text"),
        },
    )
