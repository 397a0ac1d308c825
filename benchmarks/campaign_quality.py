"""Quality and speed of campaign detection on the generated labelled set.

    uv run python benchmarks/campaign_quality.py [--n 20000] [--seed 0] [--large 100000]

Prints JSON:

* ``pairwise``: precision, recall and F1 over pairs of texts (a pair is positive
  when both texts are in the same predicted campaign; it is correct when both
  are in the same gold campaign); ``pairwise_variants_joined`` the same with
  each campaign marked ``variant_of`` another counted as part of it;
* ``campaigns``: found vs true, per-campaign member recall (the share of a gold
  campaign's members in the predicted campaign holding most of them), false
  campaigns (mostly non-campaign texts) and whether each hard pair (a campaign
  whose letter reuses about half of another's sentences) was kept apart;
* ``added_text``: the share of own sentences inserted into members that
  ``added_text(template, member)`` recovers, with the detector's template
  (end to end, a missed member counts as a miss) and with the gold template,
  the mean number of other words it returns per member (a member's own name
  sentence or a new greeting line counts here), and its speed over all members;
* ``stress``: the same figures on harder variants (hard-case letters that reuse
  60% or 75% of another campaign's sentences; half of all members adding a
  paragraph of their own), to show where the method stops separating;
* ``speed``: texts per second of ``fit`` at ``--n`` and at ``--large`` texts,
  one core, with the mean text length; and at ``--large`` texts of which most
  belong to four campaigns of ``--large``/7 to ``--large``/4 members.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.campaigns import CampaignDetector, added_text, normalise
from benchmarks.campaign_cases import CaseSet, generate


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def pairwise_scores(gold: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering; label -1 means "no cluster"."""
    gold = np.asarray(gold)
    pred = np.asarray(pred)
    both = (gold >= 0) & (pred >= 0)
    cells = Counter(zip(gold[both].tolist(), pred[both].tolist(), strict=True))
    tp = _pairs(np.array(list(cells.values()), dtype=np.int64))
    pred_pairs = _pairs(np.bincount(pred[pred >= 0])) if np.any(pred >= 0) else 0
    gold_pairs = _pairs(np.bincount(gold[gold >= 0])) if np.any(gold >= 0) else 0
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def campaign_scores(cases: CaseSet, pred: np.ndarray) -> dict[str, object]:
    gold = cases.gold
    n_true = int(gold.max()) + 1 if np.any(gold >= 0) else 0
    n_found = int(pred.max()) + 1 if np.any(pred >= 0) else 0
    recall = {}
    majority = {}
    for c in range(n_true):
        p = pred[gold == c]
        hits = p[p >= 0]
        if hits.size:
            top = int(np.bincount(hits).argmax())
            majority[c] = top
            recall[c] = float((p == top).mean())
        else:
            majority[c] = -1
            recall[c] = 0.0
    false = 0
    for k in range(n_found):
        g = gold[pred == k]
        if (g < 0).mean() > 0.5:
            false += 1
    hard = {
        f"{derived}-vs-{base}": majority[derived] != majority[base] or majority[derived] < 0
        for derived, base in cases.derived_from.items()
    }
    return {
        "true": n_true,
        "found": n_found,
        "false_campaigns": false,
        "member_recall": {str(c): round(r, 4) for c, r in recall.items()},
        "min_member_recall": round(min(recall.values()), 4) if recall else None,
        "hard_pairs_separated": hard,
        "non_campaign_texts_claimed": int(((pred >= 0) & (gold < 0)).sum()),
    }


def added_scores(cases: CaseSet, det: CampaignDetector) -> dict[str, object]:
    t0 = time.perf_counter()
    calls = 0
    for c in det.campaigns_:
        for i in c.members:
            added_text(c.template, cases.texts[i])
            calls += 1
    seconds = time.perf_counter() - t0
    total = 0
    found_end_to_end = 0
    found_gold = 0
    extra_words = []
    for i, sentences in cases.inserted.items():
        gold_added = normalise(added_text(cases.templates[int(cases.gold[i])], cases.texts[i]))
        label = int(det.labels_[i])
        pred_added = (
            normalise(added_text(det.campaigns_[label].template, cases.texts[i]))
            if label >= 0
            else ""
        )
        words = Counter(pred_added.split())
        for s in sentences:
            total += 1
            ns = normalise(s)
            found_gold += ns in gold_added
            found_end_to_end += ns in pred_added
            words.subtract(ns.split())
        extra_words.append(sum(v for v in words.values() if v > 0))
    return {
        "inserted_sentences": total,
        "recovered_end_to_end": round(found_end_to_end / total, 4) if total else None,
        "recovered_with_gold_template": round(found_gold / total, 4) if total else None,
        "mean_other_words_per_member": round(float(np.mean(extra_words)), 2)
        if extra_words
        else None,
        "members_per_second": round(calls / seconds) if seconds > 0 else None,
    }


def _timed_fit(texts: list[str], seed: int) -> tuple[CampaignDetector, dict[str, object]]:
    t0 = time.perf_counter()
    det = CampaignDetector(random_state=seed).fit(texts)
    seconds = time.perf_counter() - t0
    return det, {
        "texts": len(texts),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "seconds": round(seconds, 2),
        "texts_per_second": round(len(texts) / seconds),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="texts in the quality set")
    parser.add_argument("--seed", type=int, default=0, help="generator and detector seed")
    parser.add_argument(
        "--large", type=int, default=100_000, help="texts for the second speed run (0: skip)"
    )
    args = parser.parse_args(argv)

    cases = generate(args.n, seed=args.seed)
    det, speed = _timed_fit(cases.texts, args.seed)
    report: dict[str, object] = {
        "command": "uv run python benchmarks/campaign_quality.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "n": args.n,
        "seed": args.seed,
        "params": det.get_params(),
        "gold_campaign_sizes": np.bincount(cases.gold[cases.gold >= 0]).tolist(),
        "found_campaign_sizes": [c.size for c in det.campaigns_],
        "pairwise": {k: round(v, 4) for k, v in pairwise_scores(cases.gold, det.labels_).items()},
        "pairwise_variants_joined": {
            k: round(v, 4) for k, v in pairwise_scores(cases.gold, det.root_labels_).items()
        },
        "campaigns": campaign_scores(cases, det.labels_),
        "variant_links": [
            {"campaign": i, "variant_of": c.variant_of, "coverage": c.variant_coverage}
            for i, c in enumerate(det.campaigns_)
            if c.variant_of is not None
        ],
        "added_text": added_scores(cases, det),
        "speed": {str(args.n): speed},
    }
    # harder variants of the same set: closer hard-case letters, heavier edits
    stress = {}
    for name, kwargs in {
        "derived_keep_0.6": {"derived_keep": 0.6},
        "derived_keep_0.75": {"derived_keep": 0.75},
        "own_paragraph_0.5": {"own_paragraph": 0.5},
    }.items():
        hard = generate(args.n, seed=args.seed, **kwargs)  # type: ignore[arg-type]
        hard_det = CampaignDetector(random_state=args.seed).fit(hard.texts)
        scores = campaign_scores(hard, hard_det.labels_)
        stress[name] = {
            "pairwise": {
                k: round(v, 4) for k, v in pairwise_scores(hard.gold, hard_det.labels_).items()
            },
            "pairwise_f1_variants_joined": round(
                pairwise_scores(hard.gold, hard_det.root_labels_)["f1"], 4
            ),
            "variant_links": sum(c.variant_of is not None for c in hard_det.campaigns_),
            "found": scores["found"],
            "true": scores["true"],
            "min_member_recall": scores["min_member_recall"],
            "hard_pairs_separated": scores["hard_pairs_separated"],
        }
    report["stress"] = stress
    if args.large:
        big = generate(args.large, seed=args.seed + 1)
        big_det, big_speed = _timed_fit(big.texts, args.seed)
        big_speed["pairwise_f1"] = round(pairwise_scores(big.gold, big_det.labels_)["f1"], 4)
        big_speed["pairwise_f1_variants_joined"] = round(
            pairwise_scores(big.gold, big_det.root_labels_)["f1"], 4
        )
        big_speed["campaigns_found_true"] = [len(big_det.campaigns_), int(big.gold.max()) + 1]
        report["speed"][str(args.large)] = big_speed  # type: ignore[index]
        # mass campaigns: most texts belong to a few very large campaigns
        mass = generate(
            args.large,
            seed=args.seed + 2,
            n_campaigns=3,
            n_derived=1,
            min_size=args.large // 7,
            max_size=args.large // 4,
        )
        mass_det, mass_speed = _timed_fit(mass.texts, args.seed)
        mass_speed["campaign_members"] = int((mass.gold >= 0).sum())
        mass_speed["pairwise_f1"] = round(pairwise_scores(mass.gold, mass_det.labels_)["f1"], 4)
        mass_speed["pairwise_f1_variants_joined"] = round(
            pairwise_scores(mass.gold, mass_det.root_labels_)["f1"], 4
        )
        mass_speed["campaigns_found_true"] = [len(mass_det.campaigns_), int(mass.gold.max()) + 1]
        mass_speed["variant_links"] = sum(c.variant_of is not None for c in mass_det.campaigns_)
        report["speed"][f"{args.large}_mass_campaigns"] = mass_speed  # type: ignore[index]
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
