"""`consult benchmark`, run as a user runs it, on a small dataset in the ThemeFinder layout.

The dataset is written by the test (two question parts, 100 responses, four themes each,
with stances), so the suite needs no data from outside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from benchmarks.themefinder_layout import write_json, write_jsonl

THEMES = {
    "A": ("Cost", "The cost to taxpayers and councils.", ["cost", "money", "budget", "expense"]),
    "B": ("Privacy", "Worries about personal data and privacy.", ["privacy", "records", "data"]),
    "C": ("Oversight", "Calls for independent oversight.", ["oversight", "regulator", "audit"]),
    "D": ("Access", "Faster access to services.", ["access", "quicker", "waiting", "support"]),
}


def write_dataset(root: Path, responses: int = 100) -> Path:
    """Answers built from each theme's words, so a model can learn the themes from a seed."""
    import random

    rng = random.Random(7)
    codes = sorted(THEMES)
    write_jsonl(
        root / "inputs" / "respondents.jsonl",
        [{"response_id": 1000 + i, "demographic_data": {}} for i in range(responses)],
    )
    for part in (1, 2):
        rows, mapping, sentiment = [], [], []
        for i in range(responses):
            labels = sorted(rng.sample(codes, rng.choice([1, 1, 2])))
            words = [w for code in labels for w in rng.sample(THEMES[code][2], 2)]
            text = f"I think about {' and '.join(words)} a lot, part {part}."
            rows.append({"response_id": 1000 + i, "response": text})
            mapping.append({"response_id": 1000 + i, "labels": labels})
            sentiment.append(
                {"response_id": 1000 + i, "position": rng.choice(["AGREE", "DISAGREE"])}
            )
        inputs = root / "inputs" / f"question_part_{part}"
        write_json(
            inputs / "question.json", {"question_number": part, "question_text": f"Q{part}?"}
        )
        write_jsonl(inputs / "responses.jsonl", rows)
        out = root / "outputs" / "mapping" / "2026-11-22" / f"question_part_{part}"
        write_json(
            out / "themes.json",
            [
                {"topic_id": c, "topic_label": t, "topic_description": d, "topic": f"{t}: {d}"}
                for c, (t, d, _) in THEMES.items()
            ],
        )
        write_jsonl(out / "mapping.jsonl", mapping)
        write_jsonl(out / "sentiment.jsonl", sentiment)
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset")


def consult(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def benchmark_databases(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'consult_benchmark_%'"
        ).fetchall()
    return [r[0] for r in rows]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_benchmark_writes_predictions_and_metrics_in_a_fresh_database(
    database_url: str, tmp_path: Path, dataset: Path
) -> None:
    DATASET = dataset
    MAPPING = DATASET / "outputs" / "mapping" / "2026-11-22"
    before = benchmark_databases(database_url)
    out = tmp_path / "predictions.jsonl"
    result = consult(
        "benchmark", str(DATASET), "--seed-fraction", "0.2", "--seed", "0",
        "--predictions", str(out), database_url=database_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout)
    assert metrics["answers"] == 200 and metrics["parts"] == 2
    assert metrics["seed_answers"] == 40 and metrics["predicted_answers"] == 160
    for key in ("sample_f1", "micro_f1", "macro_f1", "stance_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["answers_per_second"] > 0 and metrics["answers_per_cpu_second"] > 0
    kinds = sorted((r["part"], r["kind"]) for r in metrics["runs"])
    assert kinds == [(1, "code"), (1, "stance"), (2, "code"), (2, "stance")]
    assert all(r["cv"]["themes"] for r in metrics["runs"] if r["kind"] == "code")

    lines = jsonl(out)
    assert len(lines) == 160
    for part in (1, 2):
        ids = {
            r["response_id"]
            for r in jsonl(DATASET / f"inputs/question_part_{part}/responses.jsonl")
        }
        themes = {
            t["topic_id"]
            for t in json.loads((MAPPING / f"question_part_{part}/themes.json").read_text())
        }
        mine = [line for line in lines if line["question_part"] == part]
        assert len(mine) == 80
        for line in mine:
            assert line["response_id"] in ids
            assert set(line["labels"]) <= themes
            assert line["position"] in ("AGREE", "DISAGREE", "UNCLEAR")
    # The fresh database is gone again.
    assert benchmark_databases(database_url) == before

    # The same dataset, fraction and seed give the same predictions (in a new database).
    again = tmp_path / "again.jsonl"
    second = consult(
        "benchmark", str(DATASET), "--seed", "0", "--predictions", str(again),
        database_url=database_url,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    assert again.read_text() == out.read_text()


def test_benchmark_refuses_a_folder_that_is_not_the_layout(
    database_url: str, tmp_path: Path
) -> None:
    before = benchmark_databases(database_url)
    result = consult("benchmark", str(tmp_path), database_url=database_url)
    assert result.returncode == 1
    assert "not in the ThemeFinder layout" in " ".join(result.stderr.split())
    assert benchmark_databases(database_url) == before
