"""Convert the NHS England pxtextmining phase 1 Friends and Family Test data into the
Consult/ThemeFinder evaluation layout.

    uv run python benchmarks/convert_nhs_fft.py SRC_DIR OUT_DIR [--level subcode|category]

One question part per value of the ``question`` column (e.g. "Trust A - Q1").
Themes are the sub-codes (``--level subcode``, 44 themes, the default) or the 9
major categories (``--level category``). The source has one row per (comment,
code); rows of the same question with identical text and consecutive
``row_index`` and *different* codes are one comment coded with several codes
and are merged into one answer with several labels. Identical texts with the
same code, or not consecutive (e.g. "Nothing" from different patients), stay
separate answers. Rows with empty
text are dropped. The source has no agree/disagree position, so no
sentiment.jsonl is written; the per-label ``stances`` come from the sign of
``criticality`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.themefinder_layout import theme_ids, write_json, write_jsonl

DEFAULT_DATE = "2021-01-01"  # phase 1 data; the folder name is only a label
SOURCE_FILE = "phase1_text_data.csv"
ATTRIBUTION = (
    "NHS England pxtextmining, phase 1 text data (https://github.com/CDU-data-science-team/"
    "pxtextmining). Care Opinion data is shared under CC BY-NC-SA 4.0 "
    "(https://creativecommons.org/licenses/by-nc-sa/4.0/) and generated from the Care Opinion "
    "API; repository code MIT licence, (c) 2021 NHS England. Non-commercial use only; "
    "derived files must carry the same licence."
)


def _criticality(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None  # the source has a few stray values ("-o", "SS", "-NA")


def _stance(crit: int | None) -> str:
    if crit is None or crit == 0:
        return "NEUTRAL"
    return "POSITIVE" if crit > 0 else "NEGATIVE"


def convert(src: Path, out: Path, level: str = "subcode", date: str = DEFAULT_DATE) -> dict:
    with (src / SOURCE_FILE).open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["feedback"] and r["feedback"].strip()]
    rows.sort(key=lambda r: int(r["row_index"]))

    # theme inventory: (key, label, description) in order of first appearance
    # "xn" (Nothing to improve) is filed under two categories in the source; each row's
    # own category is used at category level.
    if level == "subcode":
        keys = sorted({r["code"].strip() for r in rows})
        cat_of: dict[str, Counter] = {k: Counter() for k in keys}
        sub_of: dict[str, str] = {}
        for r in rows:
            cat_of[r["code"].strip()][r["label"].strip()] += 1
            sub_of[r["code"].strip()] = r["subcategory"].strip()
        inventory = [
            (
                k,
                sub_of[k],
                f"{sub_of[k]} (sub-code '{k}' of the category "
                f"'{cat_of[k].most_common(1)[0][0]}' in the NHS FFT phase 1 codeframe)",
            )
            for k in keys
        ]

        def key_of(r: dict[str, str]) -> str:
            return r["code"].strip()
    else:
        cats = sorted({r["label"].strip() for r in rows})
        subs: dict[str, set[str]] = {c: set() for c in cats}
        for r in rows:
            subs[r["label"].strip()].add(r["subcategory"].strip())
        inventory = [
            (c, c, f"{c}: covers {', '.join(sorted(subs[c]))} (NHS FFT phase 1 category)")
            for c in cats
        ]

        def key_of(r: dict[str, str]) -> str:
            return r["label"].strip()

    # merge consecutive duplicate rows (same question, same text) into one answer
    answers: list[dict] = []
    for r in rows:
        text = r["feedback"].strip()
        idx = int(r["row_index"])
        prev = answers[-1] if answers else None
        if (
            prev is not None
            and prev["question"] == r["question"]
            and prev["text"] == text
            and prev["last_index"] == idx - 1
            and r["code"].strip() not in prev["codes"]
        ):
            prev["last_index"] = idx
            prev["codes"].append(r["code"].strip())
            if key_of(r) not in prev["keys"]:
                prev["keys"].append(key_of(r))
                prev["crits"].append(_criticality(r["criticality"]))
            continue
        answers.append(
            {
                "question": r["question"].strip(),
                "organization": r["organization"].strip(),
                "text": text,
                "first_index": idx,
                "last_index": idx,
                "codes": [r["code"].strip()],
                "keys": [key_of(r)],
                "crits": [_criticality(r["criticality"])],
            }
        )

    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; choose a new OUT_DIR")
    questions = sorted({a["question"] for a in answers})
    ids = theme_ids(len(inventory))
    to_id = {k: t for (k, _, _), t in zip(inventory, ids, strict=True)}
    themes = [
        {
            "topic_id": t,
            "topic_label": label,
            "topic_description": desc,
            "topic": f"{label}: {desc}",
        }
        for (_, label, desc), t in zip(inventory, ids, strict=True)
    ]
    respondents: list[dict[str, object]] = []
    source_ids: list[dict[str, object]] = []
    parts = []
    next_id = 1
    for part_no, q in enumerate(questions, start=1):
        part = f"question_part_{part_no}"
        responses, mapping = [], []
        for a in (a for a in answers if a["question"] == q):
            rid = next_id
            next_id += 1
            pairs = sorted(zip(a["keys"], a["crits"], strict=True), key=lambda p: to_id[p[0]])
            responses.append({"response_id": rid, "response": a["text"]})
            mapping.append(
                {
                    "response_id": rid,
                    "labels": [to_id[k] for k, _ in pairs],
                    "stances": [_stance(c) for _, c in pairs],
                }
            )
            respondents.append(
                {"response_id": rid, "demographic_data": {"organization": a["organization"]}}
            )
            source_ids.append(
                {
                    "response_id": rid,
                    "source_row_index": list(range(a["first_index"], a["last_index"] + 1)),
                }
            )
        write_json(
            out / "inputs" / part / "question.json",
            {
                "question_number": part_no,
                "question_text": f"{q} (NHS Friends and Family Test free-text question; "
                "the original wording is not in the dataset)",
            },
        )
        write_jsonl(out / "inputs" / part / "responses.jsonl", responses)
        mdir = out / "outputs" / "mapping" / date / part
        # every part gets the full codeframe: the source does not restrict codes by question
        write_json(mdir / "themes.json", themes)
        write_jsonl(mdir / "mapping.jsonl", mapping)
        card = [len(m["labels"]) for m in mapping]
        used = Counter(lab for m in mapping for lab in m["labels"])
        parts.append(
            {
                "part": part,
                "question": q,
                "answers": len(responses),
                "themes": len(themes),
                "themes_used": len(used),
                "label_cardinality": round(statistics.mean(card), 3),
                "multi_label_share": round(sum(c > 1 for c in card) / len(card), 3),
            }
        )
    write_jsonl(out / "inputs" / "respondents.jsonl", respondents)
    write_jsonl(out / "source_ids.jsonl", source_ids)
    (out / "README.md").write_text(
        f"# NHS FFT phase 1 ({level} level) in the Consult/ThemeFinder layout\n\n"
        f"Converted by `benchmarks/convert_nhs_fft.py --level {level}`. One question part per\n"
        "trust question; consecutive duplicate rows merged into multi-label answers; no\n"
        "positions in the source so no sentiment.jsonl; per-label stances from the sign of\n"
        "`criticality` (0 or invalid -> NEUTRAL). `source_ids.jsonl` maps response_id to the\n"
        "source row_index values.\n\n"
        f"Source and licence: {ATTRIBUTION}\n",
        encoding="utf-8",
    )
    n = sum(p["answers"] for p in parts)
    return {
        "level": level,
        "parts": len(parts),
        "answers": n,
        "themes": len(themes),
        "label_cardinality": round(
            sum(p["label_cardinality"] * p["answers"] for p in parts) / n, 3
        ),
        "per_part": parts,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help=f"folder with {SOURCE_FILE}")
    ap.add_argument("out", type=Path, help="output folder (created; must be empty)")
    ap.add_argument("--level", choices=["subcode", "category"], default="subcode")
    ap.add_argument("--date", default=DEFAULT_DATE, help="name of the outputs/mapping/<date>")
    args = ap.parse_args(argv)
    summary = convert(args.src, args.out, args.level, args.date)
    json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
