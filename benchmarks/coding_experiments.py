"""Measure theme-coding and stance variants on a dataset in the Consult/ThemeFinder
evaluation layout, without a database.

    uv run python benchmarks/coding_experiments.py DATASET_DIR --seed-fraction 0.2 --seed 0

For each question part a seeded random ``seed_fraction`` of the answers is the
"hand-coded seed": only its gold labels (and positions) are used for training
and threshold tuning; the other answers are predicted and scored. Prints JSON:
sample-averaged, micro and macro F1, stance accuracy, and fit / predict /
end-to-end answers per second per core (CPU time of one thread) for every variant.

The default coder (variant ``pairwise``) uses wordllama embeddings when that
optional package is installed (``embedding_installed`` in the output) and
TF-IDF only otherwise; ``pairwise_tfidf`` forces TF-IDF. Variants without
``text_stance`` read the answers' positions from the stance question (what the
service does when respondents answer it); ``*_text_stance`` predict them.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # answers per second *per core*

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.coding import (  # noqa: E402
    StanceClassifier,
    ThemeCoder,
    micro_macro_f1,
    sample_f1,
)
from analysis.features import embedding_available  # noqa: E402

# CPU seconds of this process (one BLAS / ONNX thread): answers per second *per
# core*, and stable on a shared machine where wall-clock time is not
_clock = time.process_time


@dataclass
class Part:
    name: str
    question: str
    ids: list[int]
    texts: list[str]
    labels: list[list[str]]
    themes: dict[str, str]
    positions: list[str | None] = field(default_factory=list)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_layout(root: Path) -> list[Part]:
    inputs = root / "inputs"
    dates = sorted(p for p in (root / "outputs" / "mapping").iterdir() if p.is_dir())
    if not dates:
        raise SystemExit(f"no outputs/mapping/<date> in {root}")
    out_dir = dates[-1]
    parts = []
    qdirs = sorted(
        (p for p in inputs.iterdir() if p.is_dir() and p.name.startswith("question_part_")),
        key=lambda p: int(p.name.rsplit("_", 1)[1]),
    )
    for qdir in qdirs:
        q = json.loads((qdir / "question.json").read_text(encoding="utf-8"))
        responses = _jsonl(qdir / "responses.jsonl")
        mdir = out_dir / qdir.name
        gold = {r["response_id"]: list(r["labels"]) for r in _jsonl(mdir / "mapping.jsonl")}
        themes = {
            t["topic_id"]: t.get("topic") or t.get("topic_label", "")
            for t in json.loads((mdir / "themes.json").read_text(encoding="utf-8"))
        }
        pos: dict[Any, str] = {}
        if (mdir / "sentiment.jsonl").exists():
            pos = {r["response_id"]: r["position"] for r in _jsonl(mdir / "sentiment.jsonl")}
        rows = [r for r in responses if r["response_id"] in gold]
        parts.append(
            Part(
                name=qdir.name,
                question=q.get("question_text", ""),
                ids=[r["response_id"] for r in rows],
                texts=[r["response"] or "" for r in rows],
                labels=[gold[r["response_id"]] for r in rows],
                themes=themes,
                positions=[pos.get(r["response_id"]) for r in rows],
            )
        )
    return parts


def split_seed(n: int, fraction: float, seed: int, part_no: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, part_no])
    perm = rng.permutation(n)
    k = max(1, round(fraction * n))
    return np.sort(perm[:k]), np.sort(perm[k:])


# ------------------------------------------------------------------ variants
def _baseline(texts, labels, themes, unlabelled, positions=None):  # type: ignore[no-untyped-def]
    """Plain TF-IDF (word 1-2) + one-vs-rest logistic regression, threshold 0.5."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
    mlb = MultiLabelBinarizer().fit(labels)
    Y = mlb.transform(labels)
    keep = (Y.sum(0) > 0) & (Y.sum(0) < len(Y))

    class M:
        def predict(self, new):  # type: ignore[no-untyped-def]
            if not keep.any():
                return [[] for _ in new]
            P = clf.predict_proba(vec.transform(new))
            cls = mlb.classes_[keep]
            return [[str(c) for c, p in zip(cls, row, strict=True) if p >= 0.5] for row in P]

    clf = None
    if keep.any():
        clf = OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(
            vec.transform(texts), Y[:, keep]
        )
    return M()


def _coder(use_positions: bool = True, read: bool = True, **params: Any) -> Callable[..., Any]:
    """A ThemeCoder variant. read=True: the answers' positions are read from the
    stance question (the product path when respondents answered it); the seed's
    and the coded answers' positions are passed. read=False: only the seed's
    positions are known; the coded answers' stance is predicted from text."""
    params.setdefault("read_positions", read)

    def make(texts, labels, themes, unlabelled, positions=None):  # type: ignore[no-untyped-def]
        return ThemeCoder(**params).fit(
            texts,
            labels,
            theme_descriptions=themes,
            unlabelled_texts=unlabelled,
            positions=positions if use_positions else None,
        )

    make.read = read and use_positions  # type: ignore[attr-defined]
    make.embedding = params.get("embedding", "auto")  # type: ignore[attr-defined]
    return make


VARIANTS: dict[str, Callable[..., Any]] = {
    "baseline_tfidf_lr": _baseline,
    "ovr_tuned": _coder(model="ovr", embedding=None),
    # the default: embedding="auto" (wordllama when installed), positions read
    "pairwise": _coder(),
    "pairwise_text_stance": _coder(read=False),
    "pairwise_no_positions": _coder(use_positions=False),
    "pairwise_tfidf": _coder(embedding=None),
    "pairwise_tfidf_text_stance": _coder(embedding=None, read=False),
    # what `consult benchmark` does: the seed's positions are read (human stances),
    # the other answers' positions are not given, so the coder predicts them from text
    "pairwise_seed_positions_only": _coder(read_positions=True, read=False),
    "pairwise_no_descriptions": _coder(use_descriptions=False),
    "pairwise_top_decision": _coder(decision="top"),
    "pairwise_expected_f1": _coder(decision="expected_f1"),
    "pairwise_pair_C_1": _coder(pair_C=1.0),
    "pairwise_no_coverage": _coder(coverage=False),
    "pairwise_linear": _coder(linear=True),
    "pairwise_word_only": _coder(char_weight=0.0),
    "quality_char_ngrams": _coder(char_weight=0.5),
    "pairwise_wordllama": _coder(embedding="wordllama"),
    "pairwise_cv3": _coder(cv=3),
    "pairwise_none_features": _coder(none_features=True),
    "pairwise_no_embedding_ridge": _coder(embedding_ridge=False),
    # + the answer-vs-description matcher trained on ArgKP train (analysis.matching)
    "pairwise_matcher": _coder(matcher="shipped"),
    "pairwise_seed_positions_only_matcher": _coder(matcher="shipped", read=False),
    "pairwise_minilm": _coder(embedding="minilm"),
    "pairwise_minilm_text_stance": _coder(embedding="minilm", read=False),
}


def _forget_embeddings() -> None:
    """Empty the per-process embedding memo (not the MiniLM one when --embedding-cache
    preloaded it), so a variant does not profit from texts an earlier one embedded."""
    from analysis import embeddings

    for backend in list(embeddings._memo):
        if backend == "minilm" and _KEEP_MINILM_MEMO:
            continue
        embeddings._memo[backend].clear()


_KEEP_MINILM_MEMO = False


def run_variant(name: str, parts: list[Part], fraction: float, seed: int) -> dict[str, Any]:
    make = VARIANTS[name]
    _forget_embeddings()
    gold_all: list[list[str]] = []
    pred_all: list[list[str]] = []
    stance_text_ok = stance_stack_ok = stance_n = 0
    fit_s = pred_s = stance_s = 0.0
    n_seed = n_eval = 0
    stance_parts = 0
    read = bool(getattr(make, "read", False))
    for part_no, part in enumerate(parts, start=1):
        seed_idx, eval_idx = split_seed(len(part.texts), fraction, seed, part_no)
        tr_texts = [part.texts[i] for i in seed_idx]
        tr_labels = [part.labels[i] for i in seed_idx]
        ev_texts = [part.texts[i] for i in eval_idx]
        t0 = _clock()
        tr_pos = [part.positions[i] for i in seed_idx]
        model = make(tr_texts, tr_labels, part.themes, ev_texts, tr_pos)
        t1 = _clock()
        ev_pos = [part.positions[i] for i in eval_idx] if read else None
        if isinstance(model, ThemeCoder):
            proba = model.predict_proba(ev_texts, positions=ev_pos)
            pred = model.decode(proba)
        else:
            proba = None
            pred = model.predict(ev_texts)
        t2 = _clock()
        fit_s += t1 - t0
        pred_s += t2 - t1
        n_seed += len(seed_idx)
        n_eval += len(eval_idx)
        gold_all += [[f"{part.name}:{lab}" for lab in part.labels[i]] for i in eval_idx]
        pred_all += [[f"{part.name}:{lab}" for lab in p] for p in pred]

        # stance: seed answers that have a position
        have = [i for i in seed_idx if part.positions[i]]
        ev_have = [k for k, i in enumerate(eval_idx) if part.positions[i]]
        if have and ev_have and len({part.positions[i] for i in have}) > 1:
            stance_parts += 1
            y = [str(part.positions[i]) for i in have]
            s_texts = [part.texts[i] for i in have]
            t3 = _clock()
            sc = StanceClassifier(embedding=getattr(make, "embedding", None))
            if isinstance(model, ThemeCoder):
                seed_pos = {int(i): k for k, i in enumerate(seed_idx)}
                oof = model.oof_proba_[[seed_pos[int(i)] for i in have]]
                sc.fit(
                    s_texts,
                    y,
                    theme_proba=oof,
                    theme_labels=[part.labels[i] for i in have],
                    theme_classes=list(model.classes_),
                    unlabelled_texts=ev_texts,
                )
            else:
                sc.fit(s_texts, y, unlabelled_texts=ev_texts)
            ev_t = [ev_texts[k] for k in ev_have]
            gold_pos = np.asarray([part.positions[eval_idx[k]] for k in ev_have], dtype=object)
            p_text = sc.predict(ev_t)
            # the stacked model uses theme probabilities computed without read
            # positions only on the text path; on the read path stance is not predicted
            p_stack = sc.predict(
                ev_t, theme_proba=proba[ev_have] if proba is not None and not read else None
            )
            t5 = _clock()
            stance_s += t5 - t3
            stance_text_ok += int((p_text == gold_pos).sum())
            stance_stack_ok += int((p_stack == gold_pos).sum())
            stance_n += len(ev_have)
    micro, macro = micro_macro_f1(gold_all, pred_all)
    total = n_seed + n_eval
    return {
        "sample_f1": round(sample_f1(gold_all, pred_all), 4),
        "micro_f1": round(micro, 4),
        "macro_f1": round(macro, 4),
        # read: the position comes from the stance question (accuracy 1 by construction,
        # the product path when respondents answer it); text / text_stacked: predicted
        # from the text by StanceClassifier trained on the seed (letters, emails)
        "stance_source": "read" if read else "text",
        "stance_accuracy": (1.0 if read else round(stance_stack_ok / stance_n, 4))
        if stance_n
        else None,
        "stance_accuracy_text": round(stance_text_ok / stance_n, 4) if stance_n else None,
        "stance_accuracy_text_stacked": round(stance_stack_ok / stance_n, 4)
        if stance_n and not read
        else None,
        "n_seed": n_seed,
        "n_eval": n_eval,
        # CPU seconds (one thread): coder fit on the seed, coder predict on the rest,
        # and the text stance model (fit + predict; needed in the product only where
        # the stance question is unanswered, so counted end to end only when not read)
        "fit_seconds": round(fit_s, 3),
        "predict_seconds": round(pred_s, 3),
        "stance_seconds": round(stance_s, 3),
        "fit_answers_per_s": round(n_seed / fit_s, 1),
        "predict_answers_per_s": round(n_eval / pred_s, 1),
        "coding_answers_per_s": round(total / (fit_s + pred_s), 1),
        "end_to_end_answers_per_s": round(
            total / (fit_s + pred_s + (0.0 if read or not stance_n else stance_s)), 1
        ),
    }


def predict_speed(
    name: str, parts: list[Part], fraction: float, seed: int, n: int = 10_000, repeat: int = 3
) -> dict[str, Any]:
    """Steady-state predict throughput of one variant: fit on the largest part's
    seed, then code a chunk of ``n`` answers (the dataset's answers, cycled; the
    service codes in chunks of this size), best of ``repeat`` runs, one thread.
    Less noisy than the per-part timings above, which include fixed per-call costs
    of small parts and whatever else the machine is doing."""
    make = VARIANTS[name]
    part_no, part = max(enumerate(parts, start=1), key=lambda kv: len(kv[1].texts))
    seed_idx, eval_idx = split_seed(len(part.texts), fraction, seed, part_no)
    t0 = _clock()
    model = make(
        [part.texts[i] for i in seed_idx],
        [part.labels[i] for i in seed_idx],
        part.themes,
        [part.texts[i] for i in eval_idx],
        [part.positions[i] for i in seed_idx],
    )
    fit_s = _clock() - t0
    pool = [t for p in parts for t in p.texts]
    # distinct texts (the embedding memo would otherwise skip repeats)
    texts = [
        pool[i % len(pool)] + ("" if i < len(pool) else f" ({i // len(pool)})") for i in range(n)
    ]
    positions = [part.positions[i % len(part.positions)] for i in range(n)]
    read = bool(getattr(make, "read", False))
    best = float("inf")
    for _ in range(repeat):
        _forget_embeddings()
        t1 = _clock()
        if isinstance(model, ThemeCoder):
            model.decode(model.predict_proba(texts, positions=positions if read else None))
        else:
            model.predict(texts)
        best = min(best, _clock() - t1)
    return {
        "fit_seed_answers": len(seed_idx),
        "fit_seconds": round(fit_s, 3),
        "predict_answers": n,
        "predict_answers_per_s": round(n / best, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--seed-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated subset of: {', '.join(VARIANTS)}",
    )
    ap.add_argument(
        "--speed",
        action="store_true",
        help="also measure steady-state predict speed on a 10,000-answer chunk",
    )
    ap.add_argument("--table", action="store_true", help="print a markdown table, not JSON")
    ap.add_argument(
        "--embedding-cache",
        type=Path,
        help="npz file of MiniLM embeddings to reuse across runs (read if present, "
        "written at the end); speeds are then not meaningful for minilm variants",
    )
    args = ap.parse_args(argv)
    parts = load_layout(args.dataset)
    if args.embedding_cache:
        global _KEEP_MINILM_MEMO
        _KEEP_MINILM_MEMO = True
        _load_cache(args.embedding_cache)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    result: dict[str, Any] = {
        "dataset": str(args.dataset),
        "seed_fraction": args.seed_fraction,
        "seed": args.seed,
        "parts": len(parts),
        "answers": sum(len(p.texts) for p in parts),
        "embedding_installed": embedding_available("wordllama"),
        "variants": {},
    }
    for name in names:
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name}")
        backend = next((b for b in ("wordllama", "minilm") if b in name), None)
        if backend and not embedding_available(backend):
            result["variants"][name] = {"skipped": f"{backend} not installed"}
            continue
        result["variants"][name] = run_variant(name, parts, args.seed_fraction, args.seed)
        if args.speed:
            result["variants"][name]["speed"] = predict_speed(
                name, parts, args.seed_fraction, args.seed
            )
        print(f"{name}: {result['variants'][name]}", file=sys.stderr, flush=True)
    if args.embedding_cache:
        _save_cache(args.embedding_cache)
    if args.table:
        print(table(result))
    else:
        json.dump(result, sys.stdout, indent=2)
        print()
    return 0


def table(result: dict[str, Any]) -> str:
    """The figures as a markdown table: one row per variant."""
    name = Path(result["dataset"]).name
    rows = [
        "| dataset | variant | sample F1 | micro F1 | macro F1 | stance (source) "
        "| fit /s | predict /s | end to end /s per core |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for variant, r in result["variants"].items():
        if "skipped" in r:
            rows.append(f"| {name} | {variant} | skipped: {r['skipped']} | | | | | | |")
            continue
        acc = r.get("stance_accuracy")
        if r.get("stance_source") == "read" and r.get("stance_accuracy_text") is not None:
            stance = f"read (text model {r['stance_accuracy_text']:.3f})"
        elif acc is not None:
            stance = f"{acc:.3f} ({r['stance_source']})"
        else:
            stance = "-"
        rows.append(
            f"| {name} | {variant} | {r['sample_f1']:.3f} | {r['micro_f1']:.3f} "
            f"| {r['macro_f1']:.3f} | {stance} | {r['fit_answers_per_s']:,.0f} "
            f"| {r['predict_answers_per_s']:,.0f} | {r['end_to_end_answers_per_s']:,.0f} |"
        )
    return "\n".join(rows)


def _load_cache(path: Path) -> None:
    from collections import OrderedDict

    from analysis import embeddings

    if path.exists():
        data = np.load(path, allow_pickle=False)
        memo = embeddings._memo.setdefault("minilm", OrderedDict())
        for t, v in zip(data["texts"].tolist(), data["vecs"], strict=True):
            memo[t] = v
    embeddings._MEMO_SIZE = 10**7  # keep everything for the run


def _save_cache(path: Path) -> None:
    from analysis import embeddings

    memo = embeddings._memo.get("minilm")
    if memo:
        np.savez(path, texts=np.asarray(list(memo)), vecs=np.stack(list(memo.values())))


if __name__ == "__main__":
    raise SystemExit(main())
