"""Convert IBM Debater ArgKP (v1) into the Consult/ThemeFinder evaluation layout.

    uv run python benchmarks/convert_argkp.py SRC_DIR OUT_DIR [--split train|dev|all]

One question part per motion (``topic``). The themes of a part are that
motion's key points (both stances). An argument's ``labels`` are the key points
it was annotated as matching (``label == 1`` in ``labels_*.csv``); arguments
that match no key point are kept with empty labels, because real consultations
have answers that fit no theme. The argument's stance becomes the position
(1 -> AGREE, -1 -> DISAGREE). See benchmarks/README.md for details and licence.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.themefinder_layout import theme_ids, write_json, write_jsonl

DEFAULT_DATE = "2020-05-10"  # ArgKP v1 release date; the folder name is only a label
SPLITS = ("train", "dev")
ATTRIBUTION = (
    "IBM Debater(R) - ArgKP v1, (c) Copyright IBM 2020, released under the Community Data "
    "License Agreement - Sharing, Version 1.0 (https://cdla.io/sharing-1-0/). "
    "Bar-Haim, Eden, Friedman, Kantor, Lahav and Slonim, 'From Arguments to Key Points: "
    "Towards Automatic Argument Summarization', ACL 2020."
)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def convert(src: Path, out: Path, split: str = "train", date: str = DEFAULT_DATE) -> dict:
    splits = SPLITS if split == "all" else (split,)
    arguments: list[dict[str, str]] = []
    key_points: list[dict[str, str]] = []
    labels: list[dict[str, str]] = []
    for s in splits:
        arguments += [dict(r, split=s) for r in _read_csv(src / f"arguments_{s}.csv")]
        key_points += _read_csv(src / f"key_points_{s}.csv")
        labels += _read_csv(src / f"labels_{s}.csv")

    matches: dict[str, list[str]] = defaultdict(list)
    for row in labels:
        if row["label"].strip() == "1":
            matches[row["arg_id"]].append(row["key_point_id"])

    topics: list[str] = []
    for row in arguments:
        if row["topic"] not in topics:
            topics.append(row["topic"])

    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; choose a new OUT_DIR")
    respondents: list[dict[str, object]] = []
    source_ids: list[dict[str, object]] = []
    summary_parts = []
    next_id = 1
    for part_no, topic in enumerate(topics, start=1):
        kps = [k for k in key_points if k["topic"] == topic]
        ids = theme_ids(len(kps))
        kp_to_theme = {k["key_point_id"]: t for k, t in zip(kps, ids, strict=True)}
        themes = []
        for k, t in zip(kps, ids, strict=True):
            side = "for" if k["stance"].strip() == "1" else "against"
            label = k["key_point"].strip()
            desc = f"{label} (a key point argued {side} the motion: {topic})"
            themes.append(
                {
                    "topic_id": t,
                    "topic_label": label,
                    "topic_description": desc,
                    "topic": f"{label}: {desc}",
                }
            )
        responses, mapping, sentiment = [], [], []
        for a in (a for a in arguments if a["topic"] == topic):
            rid = next_id
            next_id += 1
            got = sorted({kp_to_theme[k] for k in matches.get(a["arg_id"], [])}, key=ids.index)
            responses.append({"response_id": rid, "response": a["argument"].strip()})
            mapping.append({"response_id": rid, "labels": got, "stances": ["POSITIVE"] * len(got)})
            position = "AGREE" if a["stance"].strip() == "1" else "DISAGREE"
            sentiment.append({"response_id": rid, "position": position})
            respondents.append({"response_id": rid, "demographic_data": {"split": a["split"]}})
            source_ids.append({"response_id": rid, "source_id": a["arg_id"]})
        part = f"question_part_{part_no}"
        write_json(
            out / "inputs" / part / "question.json",
            {"question_number": part_no, "question_text": topic},
        )
        write_jsonl(out / "inputs" / part / "responses.jsonl", responses)
        mdir = out / "outputs" / "mapping" / date / part
        write_json(mdir / "themes.json", themes)
        write_jsonl(mdir / "mapping.jsonl", mapping)
        write_jsonl(mdir / "sentiment.jsonl", sentiment)
        card = [len(m["labels"]) for m in mapping]
        summary_parts.append(
            {
                "part": part,
                "question": topic,
                "answers": len(responses),
                "themes": len(themes),
                "label_cardinality": round(statistics.mean(card), 3),
                "no_label_share": round(sum(c == 0 for c in card) / len(card), 3),
                "positions": dict(Counter(s["position"] for s in sentiment)),
            }
        )
    write_jsonl(out / "inputs" / "respondents.jsonl", respondents)
    write_jsonl(out / "source_ids.jsonl", source_ids)
    (out / "README.md").write_text(
        f"# ArgKP ({'+'.join(splits)}) in the Consult/ThemeFinder layout\n\n"
        f"Converted by `benchmarks/convert_argkp.py --split {split}`.\n"
        "One question part per motion; themes are the motion's key points; labels are the\n"
        "key points an argument matches (empty when it matches none); position from the\n"
        "argument's stance (1 AGREE, -1 DISAGREE). `source_ids.jsonl` maps response_id to\n"
        "the original arg_id. No detail_detection.jsonl: the source has no such gold.\n\n"
        f"Source and licence: {ATTRIBUTION}\n",
        encoding="utf-8",
    )
    return _summary(summary_parts)


def _summary(parts: list[dict]) -> dict:
    n = sum(p["answers"] for p in parts)
    return {
        "parts": len(parts),
        "answers": n,
        "themes": sum(p["themes"] for p in parts),
        "label_cardinality": round(
            sum(p["label_cardinality"] * p["answers"] for p in parts) / max(n, 1), 3
        ),
        "no_label_share": round(
            sum(p["no_label_share"] * p["answers"] for p in parts) / max(n, 1), 3
        ),
        "per_part": parts,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="folder with arguments_*.csv, key_points_*.csv, ...")
    ap.add_argument("out", type=Path, help="output folder (created; must be empty)")
    ap.add_argument("--split", choices=["train", "dev", "all"], default="train")
    ap.add_argument("--date", default=DEFAULT_DATE, help="name of the outputs/mapping/<date>")
    args = ap.parse_args(argv)
    summary = convert(args.src, args.out, args.split, args.date)
    json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
