"""Train the answer-vs-theme matcher shipped in ``analysis/data/`` on ArgKP *train*.

    uv run python benchmarks/train_matcher.py /work/shared/data/dev/argkp --cv
    uv run python benchmarks/train_matcher.py /work/shared/data/dev/argkp --write
    uv run python benchmarks/train_matcher.py /work/shared/data/dev/argkp \
        --coder-cv /tmp/bench/argkp_train
    (add --backend minilm for the optional MiniLM extra's embeddings)

Only ``arguments_train.csv``, ``key_points_train.csv`` and ``labels_train.csv``
are read (24 motions); the dev split is never used here. Theme descriptions are
written as ``benchmarks/convert_argkp.py`` writes them, which is what
``ThemeCoder`` sees at run time.

``--cv``: leave-topics-out cross-validation (4 folds of 6 motions, seeded): the
share of arguments (with at least one matching key point) whose best-scored key
point among all of its motion's key points matches, for the plain cosine and
each candidate (rank, l2). ``--write``: fit the chosen configuration on all 24
motions and write ``analysis/data/matcher_wordllama.npz`` (deterministic for a
seed; prints its sha256). ``--coder-cv DIR`` (DIR = ``convert_argkp.py --split
train`` output): for each fold, a matcher trained on the other 18 motions, and
the default ``ThemeCoder`` with and without it on the fold's 6 motions (20%
seed, the ``coding_experiments.py`` protocol): sample-averaged F1.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.embeddings import embed  # noqa: E402
from analysis.features import normalise  # noqa: E402
from analysis.matching import ThemeMatcher, shipped_path  # noqa: E402

# chosen by --cv (leave-topics-out top-1; see benchmarks/README.md)
CHOSEN = {"rank": 0, "l2": 1e-5}
CANDIDATES = [(0, 1e-4), (0, 1e-5), (4, 1e-3), (16, 1e-5)]


def description(key_point: str, stance: str, topic: str) -> str:
    """The theme description convert_argkp.py writes (label: description)."""
    side = "for" if stance == "1" else "against"
    return f"{key_point}: {key_point} (a key point argued {side} the motion: {topic})"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Data:
    def __init__(self, root: Path, backend: str = "wordllama") -> None:
        args = _rows(root / "arguments_train.csv")
        kps = _rows(root / "key_points_train.csv")
        labels = _rows(root / "labels_train.csv")
        self.topics = sorted({a["topic"] for a in args})
        t_index = {t: i for i, t in enumerate(self.topics)}
        a_index = {a["arg_id"]: i for i, a in enumerate(args)}
        k_index = {k["key_point_id"]: i for i, k in enumerate(kps)}
        self.A = embed([normalise(a["argument"]) for a in args], backend)
        self.K = embed(
            [normalise(description(k["key_point"], k["stance"], k["topic"])) for k in kps],
            backend,
        )
        self.ga = np.asarray([t_index[a["topic"]] for a in args])
        self.gk = np.asarray([t_index[k["topic"]] for k in kps])
        self.Y = np.zeros((len(args), len(kps)), dtype=bool)
        for row in labels:
            if row["label"] == "1":
                self.Y[a_index[row["arg_id"]], k_index[row["key_point_id"]]] = True
        self.backend = backend

    def folds(self, seed: int, k: int = 4) -> list[np.ndarray]:
        perm = np.random.default_rng(seed).permutation(len(self.topics))
        return [np.sort(perm[i::k]) for i in range(k)]

    def fit(self, topics: np.ndarray, rank: int, l2: float, seed: int) -> ThemeMatcher:
        a, k = np.isin(self.ga, topics), np.isin(self.gk, topics)
        return ThemeMatcher(rank=rank, l2=l2, random_state=seed, backend=self.backend).fit(
            self.A[a], self.Y[np.ix_(a, k)], self.K[k], self.ga[a], self.gk[k]
        )

    def top1(self, topics: np.ndarray, matcher: ThemeMatcher | None) -> tuple[int, int]:
        ok = n = 0
        for t in topics:
            rows, cols = np.flatnonzero(self.ga == t), np.flatnonzero(self.gk == t)
            rows = rows[self.Y[np.ix_(rows, cols)].any(1)]
            A, K = self.A[rows], self.K[cols]
            S = A @ K.T if matcher is None else matcher.score(A, K)
            best = S.argmax(1)
            ok += int(self.Y[rows, cols[best]].sum())
            n += len(rows)
        return ok, n


def cross_validate(data: Data, seed: int) -> dict[str, Any]:
    folds = data.folds(seed)
    out: dict[str, Any] = {}
    configs: list[tuple[str, tuple[int, float] | None]] = [("cosine", None)]
    configs += [(f"rank={r},l2={l2:g}", (r, l2)) for r, l2 in CANDIDATES]
    for name, cfg in configs:
        ok = n = 0
        per_fold = []
        for i, test in enumerate(folds):
            train = np.concatenate([f for j, f in enumerate(folds) if j != i])
            m = None if cfg is None else data.fit(train, cfg[0], cfg[1], seed)
            o, c = data.top1(test, m)
            ok, n = ok + o, n + c
            per_fold.append(round(o / c, 3))
        out[name] = {"top1": round(ok / n, 4), "per_fold": per_fold}
        print(name, out[name], file=sys.stderr, flush=True)
    return out


def coder_cv(data: Data, layout: Path, seed: int, fraction: float) -> dict[str, Any]:
    from analysis.coding import ThemeCoder, sample_f1
    from benchmarks.coding_experiments import load_layout, split_seed

    parts = load_layout(layout)
    folds = data.folds(seed)
    res: dict[str, list[list[list[str]]]] = {"gold": [], "default": [], "matcher": []}
    for i, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        m = data.fit(train, CHOSEN["rank"], CHOSEN["l2"], seed)
        test_topics = {data.topics[t] for t in test}
        for part_no, part in enumerate(parts, start=1):
            if part.question not in test_topics:
                continue
            s_idx, e_idx = split_seed(len(part.texts), fraction, 0, part_no)
            ev = [part.texts[j] for j in e_idx]
            ev_pos = [part.positions[j] for j in e_idx]
            res["gold"] += [[f"{part_no}:{x}" for x in part.labels[j]] for j in e_idx]
            for key, matcher in (("default", None), ("matcher", m)):
                coder = ThemeCoder(embedding=data.backend, matcher=matcher).fit(
                    [part.texts[j] for j in s_idx],
                    [part.labels[j] for j in s_idx],
                    theme_descriptions=part.themes,
                    unlabelled_texts=ev,
                    positions=[part.positions[j] for j in s_idx],
                )
                pred = coder.predict(ev, positions=ev_pos)
                res[key] += [[f"{part_no}:{x}" for x in p] for p in pred]
    return {
        "answers": len(res["gold"]),
        "sample_f1_default": round(sample_f1(res["gold"], res["default"]), 4),
        "sample_f1_with_matcher": round(sample_f1(res["gold"], res["matcher"]), 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("argkp", type=Path, help="folder with the ArgKP v1 train csv files")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--coder-cv", type=Path, metavar="LAYOUT_DIR")
    ap.add_argument("--seed-fraction", type=float, default=0.2)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--backend", default="wordllama", choices=["wordllama", "minilm"])
    ap.add_argument("--out", type=Path, help="default: analysis/data/matcher_<backend>.npz")
    args = ap.parse_args(argv)
    args.out = args.out or shipped_path(args.backend)
    data = Data(args.argkp, args.backend)
    result: dict[str, Any] = {
        "backend": args.backend,
        "motions": len(data.topics),
        "chosen": CHOSEN,
    }
    if args.cv:
        result["cv_top1"] = cross_validate(data, args.seed)
    if args.coder_cv:
        result["coder_cv"] = coder_cv(data, args.coder_cv, args.seed, args.seed_fraction)
    if args.write:
        m = data.fit(np.arange(len(data.topics)), CHOSEN["rank"], CHOSEN["l2"], args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        m.save(args.out)
        result["written"] = str(args.out)
        result["sha256"] = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
