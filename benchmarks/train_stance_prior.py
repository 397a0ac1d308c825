"""Train the cross-topic stance prior shipped as ``analysis/data/stance_prior.json``.

    uv run python benchmarks/train_stance_prior.py ../shared/data/dev/argkp [--out PATH]
    uv run python benchmarks/train_stance_prior.py ../shared/data/dev/argkp --loto

Reads ArgKP's TRAINING motions only (``arguments_train.csv``: argument, topic,
stance 1/-1). A motion either favours what it names ("We should legalize cannabis",
+1) or opposes it ("We should ban human cloning", -1: ban, abolish, abandon, prohibit,
close, end, fight, criminal offence); an argument's *valence* (does it speak well of
what the motion names) is its stance times that sign. The prior is a logistic
regression of valence on ``analysis.stance.valence_terms`` TF-IDF, pooled over the
motions. Deterministic (liblinear, fixed data order): the same input gives the same
JSON.

``--loto`` does the model selection instead: leave one training motion out, train the
prior on the others, give a seeded 20% of the held-out motion's arguments as the seed
(``coding_experiments.split_seed``) and print the stance accuracy on the rest for
the in-topic model alone, with the prior, and with prior + self-training.

Source: IBM Debater(R) - ArgKP v1, (c) IBM 2020, CDLA-Sharing 1.0 (the shipped file
holds model weights and term statistics, not the arguments).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stance import PRIOR_PATH, StanceClassifier, StancePrior

_OPPOSING = re.compile(
    r"\b(ban|banned|abolish|abolition|abandon|abandoned|prohibit|close|end|fight|criminal)\b"
)
PRIOR_C = 1.0
PRIOR_MIN_DF = 3


def motion_sign(topic: str) -> int:
    """+1 when the motion favours what it names, -1 when it opposes it."""
    return -1 if _OPPOSING.search(topic.lower()) else 1


def read_train(src: Path) -> list[tuple[str, str, int]]:
    """(argument, topic, stance) rows of the training split, in file order."""
    with (src / "arguments_train.csv").open(encoding="utf-8", newline="") as fh:
        return [(r["argument"], r["topic"], int(r["stance"])) for r in csv.DictReader(fh)]


def train(rows: list[tuple[str, str, int]]) -> StancePrior:
    texts = [a for a, _, _ in rows]
    valence = [int(s * motion_sign(t) > 0) for _, t, s in rows]
    return StancePrior.fit(texts, valence, C=PRIOR_C, min_df=PRIOR_MIN_DF)


def loto(rows: list[tuple[str, str, int]], embedding: str | None) -> None:
    from benchmarks.coding_experiments import split_seed

    topics = list(dict.fromkeys(t for _, t, _ in rows))
    variants = {
        "in-topic only": {"prior": None, "self_training": 0.0},
        "+ prior": {"self_training": 0.0},
        "+ prior + self-training (default)": {},
    }
    ok = dict.fromkeys(variants, 0)
    n = 0
    for part_no, topic in enumerate(topics, start=1):
        held = [(a, s) for a, t, s in rows if t == topic]
        prior = train([r for r in rows if r[1] != topic])
        seed_idx, eval_idx = split_seed(len(held), 0.2, 0, part_no)
        y = np.asarray(["AGREE" if s > 0 else "DISAGREE" for _, s in held], dtype=object)
        seed_t = [held[i][0] for i in seed_idx]
        eval_t = [held[i][0] for i in eval_idx]
        n += len(eval_idx)
        for name, params in variants.items():
            params = {"prior": prior, **params}
            clf = StanceClassifier(embedding=embedding, **params)
            clf.fit(seed_t, y[seed_idx], unlabelled_texts=eval_t)
            ok[name] += int((clf.predict(eval_t) == y[eval_idx]).sum())
    print(f"leave-one-motion-out over {len(topics)} ArgKP training motions, 20% seed, {n} answers")
    for name in variants:
        print(f"  {name:36s} {ok[name] / n:.4f}")


def speed(rows: list[tuple[str, str, int]], embedding: str | None) -> None:
    """CPU seconds (one thread) to fit on a 20% seed of all training arguments pooled as
    one proposal (self-training over the other 80%) and predict those 80%, for the
    in-topic model alone and the default; best of three."""
    import os
    import time

    from analysis import embeddings
    from benchmarks.coding_experiments import split_seed

    texts = [a for a, _, _ in rows]
    y = np.asarray(["AGREE" if s > 0 else "DISAGREE" for _, _, s in rows], dtype=object)
    seed_idx, eval_idx = split_seed(len(texts), 0.2, 0, 1)
    seed_t = [texts[i] for i in seed_idx]
    eval_t = [texts[i] for i in eval_idx]
    variants = {"in-topic only": {"prior": None, "self_training": 0.0}, "default": {}}
    for name, params in variants.items():
        best = float("inf")
        for _ in range(3):
            embeddings._memo.clear()  # embedding time counts
            t0 = time.process_time()
            clf = StanceClassifier(embedding=embedding, **params)  # type: ignore[arg-type]
            clf.fit(seed_t, y[seed_idx], unlabelled_texts=eval_t)
            clf.predict(eval_t)
            best = min(best, time.process_time() - t0)
        print(
            f"  {name:16s} fit {len(seed_t)} + predict {len(eval_t)}: {best:.2f} CPU s, "
            f"{len(texts) / best:.0f} answers per CPU second"
        )
    print(f"  load average {os.getloadavg()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder with ArgKP's arguments_train.csv")
    ap.add_argument("--out", type=Path, default=PRIOR_PATH)
    ap.add_argument("--loto", action="store_true", help="leave-one-motion-out evaluation")
    ap.add_argument("--speed", action="store_true", help="CPU seconds of fit + predict")
    ap.add_argument(
        "--embedding", default="auto", help="for --loto/--speed: auto, wordllama, minilm, none"
    )
    args = ap.parse_args(argv)
    rows = read_train(args.src)
    warnings.simplefilter("ignore", UserWarning)
    embedding = None if args.embedding == "none" else args.embedding
    if args.loto:
        loto(rows, embedding)
        return 0
    if args.speed:
        speed(rows, embedding)
        return 0
    prior = train(rows)
    meta = {
        "source": "IBM Debater(R) - ArgKP v1 training motions (CDLA-Sharing 1.0)",
        "trained_by": "benchmarks/train_stance_prior.py",
        "arguments": len(rows),
        "motions": len({t for _, t, _ in rows}),
        "C": PRIOR_C,
        "min_df": PRIOR_MIN_DF,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(prior.to_json(meta), encoding="utf-8")
    print(f"wrote {args.out}: {len(prior.terms)} terms from {len(rows)} arguments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
