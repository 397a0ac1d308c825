"""Quality and speed of the personal-data redaction, printed as JSON.

    uv run python benchmarks/redaction_quality.py [--seed N] [--texts FILE] [--show-errors]

Span-level scoring per type on the generated cases (benchmarks/redaction_cases.py):
a gold span is *found* when a predicted span of the same type overlaps it
(recall); a predicted span is *correct* when it overlaps a gold span of the same
type (precision). Predictions on the hard negatives count against precision.

Speed: answers per CPU second for ``redact`` on one core, over ~300-character
"typical" answers (10% carry personal data) and over the generated cases.
``--texts FILE`` also times a file of real answers (one per line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.redaction import KINDS, Span, redact  # noqa: E402
from benchmarks.redaction_cases import DEFAULT_SEED, Case, generate_cases, typical_answers  # noqa: E402


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(cases: list[Case]) -> tuple[dict[str, dict[str, float | int]], list[dict[str, object]]]:
    """Per-type recall/precision and the list of errors (misses and false alarms)."""
    gold_n: Counter[str] = Counter()
    gold_found: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    errors: list[dict[str, object]] = []
    for case in cases:
        predicted: tuple[Span, ...] = redact(case.text, names=case.names).spans
        for start, end, kind in case.spans:
            gold_n[kind] += 1
            if any(p.kind == kind and _overlaps(start, end, p.start, p.end) for p in predicted):
                gold_found[kind] += 1
            else:
                errors.append(
                    {"error": "miss", "kind": kind, "span": case.text[start:end], "text": case.text}
                )
        for p in predicted:
            pred_n[p.kind] += 1
            if any(
                kind == p.kind and _overlaps(start, end, p.start, p.end)
                for start, end, kind in case.spans
            ):
                pred_ok[p.kind] += 1
            else:
                errors.append(
                    {
                        "error": "false_alarm",
                        "kind": p.kind,
                        "span": case.text[p.start : p.end],
                        "text": case.text,
                    }
                )
    per_kind: dict[str, dict[str, float | int]] = {}
    for kind in [*KINDS, *sorted(set(gold_n) - set(KINDS))]:  # a kind not detected yet too
        per_kind[kind] = {
            "gold": gold_n[kind],
            "found": gold_found[kind],
            "recall": round(gold_found[kind] / gold_n[kind], 4) if gold_n[kind] else float("nan"),
            "predicted": pred_n[kind],
            "precision": round(pred_ok[kind] / pred_n[kind], 4) if pred_n[kind] else 1.0,
        }
    return per_kind, errors


def answers_per_second(texts: list[str], *, repeats: int = 5) -> dict[str, float]:
    """Throughput of ``redact`` on one core.

    CPU time (``time.process_time``) is the per-core figure: it is not inflated
    when other processes compete for the machine. Wall-clock time is reported
    beside it. Best of ``repeats`` passes, as ``timeit`` does.
    """
    for t in texts[:50]:  # warm the regex caches
        redact(t)
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for t in texts:
            redact(t)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    n = len(texts)
    return {
        "answers": n,
        "mean_chars": round(sum(map(len, texts)) / n, 1),
        "answers_per_cpu_second": round(n / best_cpu),
        "cpu_microseconds_per_answer": round(1e6 * best_cpu / n, 2),
        "answers_per_wall_second": round(n / best_wall),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--texts", type=Path, help="a file of answers, one per line, to time")
    parser.add_argument("--show-errors", action="store_true", help="also list misses/alarms")
    args = parser.parse_args(argv)

    cases = generate_cases(args.seed)
    per_kind, errors = score(cases)
    negatives = [c for c in cases if c.category == "negative"]
    untouched = sum(1 for c in negatives if not redact(c.text).spans)
    result: dict[str, object] = {
        "seed": args.seed,
        "cases": len(cases),
        "positive_cases": len(cases) - len(negatives),
        "negative_cases": len(negatives),
        "negatives_untouched": round(untouched / len(negatives), 4),
        "per_type": per_kind,
        "speed_typical_300_chars": answers_per_second(typical_answers(2000, args.seed)),
        "speed_generated_cases": answers_per_second([c.text for c in cases]),
    }
    if args.texts:
        lines = [ln for ln in args.texts.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if lines:
            result["speed_file"] = answers_per_second(lines)
    if args.show_errors:
        result["errors"] = errors
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
