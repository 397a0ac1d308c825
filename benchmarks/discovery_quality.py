"""How well theme discovery recovers known themes.

Two measures, printed as JSON:

- ``planted``: generated answers, each written around one of several planted topics (their
  own vocabulary, shared filler words, noise words); discovery runs with the number of
  themes set to "auto". Purity: share of answers whose candidate's majority topic is their
  own. Recall: share of planted topics that are the majority topic of some candidate.
- ``demo`` (with ``--demo``): per proposal of the generated demo consultation, against the
  generator's gold themes (campaign letters left out); same measures.
- ``argkp`` (with ``--argkp DIR``, e.g. the development split of ArgKP): per motion and
  stance, discovery over the arguments; the expert key points are the reference (an
  argument's key point is the one it is labelled with; arguments with none are left out of
  purity). Purity as above; key point recall: share of key points that are the majority of
  some candidate; best-match F1: per key point, the best F1 of any candidate's members
  against the key point's arguments, averaged.

    uv run python benchmarks/discovery_quality.py [--demo] [--argkp ../shared/data/dev/argkp]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from analysis.discovery import ThemeDiscoverer

TOPICS: dict[str, list[str]] = {
    "privacy": [
        "privacy",
        "personal information",
        "confidential",
        "surveillance",
        "records",
        "consent",
        "intrusion",
    ],
    "cost": ["cost", "taxpayer", "expensive", "budget", "money", "funding", "value for money"],
    "security": ["hackers", "breach", "cyber attack", "leak", "security", "encryption", "stolen"],
    "access": [
        "rural areas",
        "broadband",
        "elderly",
        "digital skills",
        "internet access",
        "offline",
        "library",
    ],
    "trust": [
        "trust",
        "government track record",
        "transparency",
        "accountability",
        "oversight",
        "audit",
        "honest",
    ],
    "health": ["nhs", "doctor", "hospital", "patients", "gp surgery", "waiting lists", "care"],
}
FILLER = [
    "I think that",
    "In my view",
    "It seems to me that",
    "Overall",
    "Honestly",
    "As a resident,",
]
GLUE = ["is a concern", "matters a lot", "needs attention", "worries me", "is important"]
NOISE = ["today", "really", "always", "often", "everyone", "country", "community", "future"]


def planted(
    n_per_topic: int = 60, seed: int = 0, topics: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """Generated answers and the topic each was written around (shuffled, seeded)."""
    rng = random.Random(seed)
    names = list(topics or TOPICS)
    rows: list[tuple[str, str]] = []
    for name in names:
        words = TOPICS[name]
        for _ in range(n_per_topic):
            picked = rng.sample(words, k=rng.randint(2, 4))
            parts = [rng.choice(FILLER)]
            for word in picked:
                parts.append(f"{word} {rng.choice(GLUE)}")
            parts.append(" ".join(rng.sample(NOISE, k=2)))
            rows.append((name, ", ".join(parts) + "."))
    rng.shuffle(rows)
    return [r[1] for r in rows], [r[0] for r in rows]


def purity_recall(labels: Sequence[int], truth: Sequence[str | None]) -> dict[str, float]:
    """Purity of candidates (majority reference label share) and recall of reference labels."""
    by_candidate: dict[int, Counter[str]] = defaultdict(Counter)
    for label, ref in zip(labels, truth, strict=True):
        if label >= 0 and ref is not None:
            by_candidate[label][ref] += 1
    assigned = sum(sum(c.values()) for c in by_candidate.values())
    majority = sum(c.most_common(1)[0][1] for c in by_candidate.values())
    found = {c.most_common(1)[0][0] for c in by_candidate.values()}
    refs = {r for r in truth if r is not None}
    return {
        "purity": round(majority / assigned, 4) if assigned else 0.0,
        "recall": round(len(found & refs) / len(refs), 4) if refs else 0.0,
        "candidates": len(by_candidate),
        "reference_themes": len(refs),
    }


def best_match_f1(labels: Sequence[int], truth_sets: Sequence[set[str]]) -> float:
    """Per reference theme, the best F1 of any candidate's members; averaged."""
    refs = sorted({r for s in truth_sets for r in s})
    if not refs:
        return 0.0
    members: dict[int, set[int]] = defaultdict(set)
    for i, label in enumerate(labels):
        if label >= 0:
            members[label].add(i)
    scores = []
    for ref in refs:
        gold = {i for i, s in enumerate(truth_sets) if ref in s}
        best = 0.0
        for group in members.values():
            tp = len(gold & group)
            if tp:
                best = max(best, 2 * tp / (len(gold) + len(group)))
        scores.append(best)
    return round(sum(scores) / len(scores), 4)


def run_planted(seed: int, n_per_topic: int) -> dict[str, object]:
    texts, truth = planted(n_per_topic=n_per_topic, seed=seed)
    started = time.perf_counter()
    model = ThemeDiscoverer(random_state=seed).fit(texts)
    seconds = time.perf_counter() - started
    scores = purity_recall(list(model.labels_), truth)
    return {
        **scores,
        "best_match_f1": best_match_f1(list(model.labels_), [{t} for t in truth]),
        "texts": len(texts),
        "texts_per_second": round(len(texts) / seconds, 1),
        "labels": [t.label for t in model.themes_],
    }


def run_argkp(folder: Path, split: str, seed: int) -> dict[str, object]:
    with open(folder / f"arguments_{split}.csv", newline="", encoding="utf-8") as f:
        arguments = list(csv.DictReader(f))
    with open(folder / f"labels_{split}.csv", newline="", encoding="utf-8") as f:
        positives: dict[str, set[str]] = defaultdict(set)
        for row in csv.DictReader(f):
            if row["label"] == "1":
                positives[row["arg_id"]].add(row["key_point_id"])
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in arguments:
        groups[(row["topic"], row["stance"])].append(row)
    per_group = []
    totals = Counter[str]()
    for (topic, stance), rows in sorted(groups.items()):
        texts = [r["argument"] for r in rows]
        model = ThemeDiscoverer(random_state=seed).fit(texts)
        sets = [positives.get(r["arg_id"], set()) for r in rows]
        # An argument's reference theme: its key point when it has exactly one.
        single = [next(iter(s)) if len(s) == 1 else None for s in sets]
        scores = purity_recall(list(model.labels_), single)
        f1 = best_match_f1(list(model.labels_), sets)
        per_group.append(
            {"motion": topic, "stance": stance, **scores, "best_match_f1": f1, "n": len(rows)}
        )
        totals["n"] += len(rows)
    n = sum(int(g["n"]) for g in per_group)  # type: ignore[call-overload]
    weighted = {
        key: round(sum(float(g[key]) * int(g["n"]) for g in per_group) / n, 4)  # type: ignore[arg-type, call-overload]
        for key in ("purity", "recall", "best_match_f1")
    }
    return {
        "split": split,
        "groups": len(per_group),
        "arguments": n,
        **weighted,
        "per_group": per_group,
    }


def run_demo(seed: int) -> dict[str, object]:
    """Per proposal of the generated demo consultation: discovery over its open-text answers
    (campaign letters left out, as the service counts them once), against the generator's
    gold themes (an answer may have several: purity uses answers with exactly one)."""
    from analysis.redaction import redact_many
    from app.demo.content import build_demo

    demo = build_demo(2016)
    per_proposal = []
    for number, proposal in enumerate(demo.proposals, start=1):
        keys = {q.key for q in proposal.questions if q.kind == "open_text"}
        texts: list[str] = []
        gold: list[set[str]] = []
        for response in demo.responses:
            if response.campaign:
                continue
            for key, value in response.answers.items():
                if key in keys and isinstance(value, str) and value.strip():
                    texts.append(value)
                    gold.append(set(response.gold_themes.get(key, ())))
        if not texts or not proposal.themes:
            continue
        redacted = [r.text for r in redact_many(texts, [() for _ in texts])]
        model = ThemeDiscoverer(random_state=seed).fit(redacted)
        single = [next(iter(g)) if len(g) == 1 else None for g in gold]
        scores = purity_recall(list(model.labels_), single)
        per_proposal.append(
            {
                "proposal": number,
                "answers": len(texts),
                "gold_themes": len(proposal.themes),
                **scores,
                "best_match_f1": best_match_f1(list(model.labels_), gold),
            }
        )
    n = sum(int(p["answers"]) for p in per_proposal)
    weighted = {
        key: round(sum(float(p[key]) * int(p["answers"]) for p in per_proposal) / n, 4)
        for key in ("purity", "recall", "best_match_f1")
    }
    return {"answers": n, **weighted, "per_proposal": per_proposal}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-per-topic", type=int, default=60)
    parser.add_argument("--argkp", type=Path, help="ArgKP folder (arguments_/labels_ CSVs)")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--demo", action="store_true", help="also the demo's gold themes")
    args = parser.parse_args()
    out: dict[str, object] = {"planted": run_planted(args.seed, args.n_per_topic)}
    if args.demo:
        out["demo"] = run_demo(args.seed)
    if args.argkp:
        out["argkp"] = run_argkp(args.argkp, args.split, args.seed)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
