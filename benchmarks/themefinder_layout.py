"""Writing the Consult/ThemeFinder evaluation layout: shared by the dataset converters."""

from __future__ import annotations

import json
import string
from pathlib import Path


def theme_ids(n: int) -> list[str]:
    """A, B, ... Z, AA, AB, ... skipping the single letters X and Y, which ThemeFinder
    reserves for "None of the Above" and "No Reason Given"."""
    letters = [c for c in string.ascii_uppercase if c not in "XY"]
    out: list[str] = []
    i = 0
    while len(out) < n:
        if i < len(letters):
            out.append(letters[i])
        else:
            j = i - len(letters)
            out.append(string.ascii_uppercase[j // 26] + string.ascii_uppercase[j % 26])
        i += 1
    return out


def write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
