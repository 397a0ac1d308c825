"""Stance from text (analysis.stance): the shipped valence prior, the classifier on a
small project-written proposal, determinism, the training script, and the service's
stance run using it."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.coding import StanceClassifier as ReExported
from analysis.stance import PRIOR_PATH, StanceClassifier, StancePrior, load_prior, valence_terms
from app.coding.models import Stance
from tests.conftest import Users
from tests.test_codeframes import THEMES, make_world
from tests.test_coding_runs import Coded, add_answers

# "We should build more cycle lanes in the town centre"
AGREE = [
    "Cycle lanes make cycling safer for children going to school",
    "More people would cycle and the air would be cleaner",
    "Safe lanes help people get fit and healthy on their way to work",
    "It reduces traffic jams because fewer people drive into town",
    "Separated lanes protect cyclists from lorries and buses",
    "Cycling is cheap, healthy and good for the environment",
    "My kids could ride to school safely with proper lanes",
    "Less pollution and less noise in the centre, a great idea",
]
DISAGREE = [
    "Cycle lanes waste money that should go on fixing potholes",
    "They take away parking spaces and hurt the local shops",
    "The roads are too narrow and lanes would cause more congestion",
    "Hardly anyone cycles here so it is a waste of public money",
    "Removing parking will drive customers away from the high street",
    "It is far too expensive and the council cannot afford it",
    "Lanes make the traffic worse for drivers and delivery vans",
    "Nobody asked for this, it is pointless and costly",
]
HELD_OUT = [
    ("Lanes would keep cyclists and children safe from traffic", "AGREE"),
    ("Cleaner air and healthier people, more cycling is good", "AGREE"),
    ("A costly waste of money when the potholes need fixing", "DISAGREE"),
    ("Shops will lose customers when the parking goes", "DISAGREE"),
]


def fitted(**params: object) -> StanceClassifier:
    texts = AGREE + DISAGREE
    y = ["AGREE"] * len(AGREE) + ["DISAGREE"] * len(DISAGREE)
    return StanceClassifier(**params).fit(  # type: ignore[arg-type]
        texts, y, unlabelled_texts=[t for t, _ in HELD_OUT]
    )


def test_negation_scope_runs_to_the_end_of_the_clause() -> None:
    terms = valence_terms("It is not safe or fair, but it helps. Don't ban it!")
    assert "NOT_safe" in terms and "NOT_fair" in terms
    assert "helps" in terms and "NOT_helps" not in terms
    assert "NOT_ban" in terms and "NOT_safe NOT_or" in terms


def test_the_shipped_prior_loads_offline_and_scores_valence() -> None:
    assert PRIOR_PATH.is_file() and PRIOR_PATH.parent.parent.name == "analysis"
    prior = load_prior()
    assert len(prior.terms) > 1000
    good, bad = prior.score(
        [
            "This helps people, it is important and provides what families need",
            "This is harmful, dangerous and should be banned",
        ]
    )
    assert good > bad
    assert prior.score([]).shape == (0,)


def test_clear_agree_and_disagree_texts_are_classified_after_a_few_examples() -> None:
    for params in ({}, {"embedding": None}, {"prior": None, "self_training": 0.0}):
        clf = fitted(**params)
        assert list(clf.classes_) == ["AGREE", "DISAGREE"]
        predicted = clf.predict([t for t, _ in HELD_OUT])
        assert list(predicted) == [y for _, y in HELD_OUT], params
        P = clf.predict_proba([t for t, _ in HELD_OUT])
        assert P.shape == (len(HELD_OUT), 2) and np.allclose(P.sum(1), 1)


def test_the_prior_direction_is_learned_from_the_seed() -> None:
    # The same texts under "We should ban cycle lanes": favourable answers now disagree.
    texts = AGREE + DISAGREE
    ban = StanceClassifier(embedding=None).fit(
        texts, ["DISAGREE"] * len(AGREE) + ["AGREE"] * len(DISAGREE)
    )
    build = fitted(embedding=None)
    assert ban.prior_direction_ is not None and build.prior_direction_ is not None
    assert ban.prior_direction_[1] == -build.prior_direction_[1]
    held = [t for t, _ in HELD_OUT]
    flipped = {"AGREE": "DISAGREE", "DISAGREE": "AGREE"}
    assert [flipped[v] for v in ban.predict(held)] == list(build.predict(held))


def test_same_inputs_give_identical_probabilities() -> None:
    held = [t for t, _ in HELD_OUT]
    assert np.array_equal(fitted().predict_proba(held), fitted().predict_proba(held))
    assert ReExported is StanceClassifier


def test_more_than_two_stances_and_a_single_stance() -> None:
    neutral = ["No view either way", "I do not mind", "Not sure", "No opinion on this"]
    texts = AGREE + DISAGREE + neutral
    y = ["support"] * len(AGREE) + ["oppose"] * len(DISAGREE) + ["neutral"] * len(neutral)
    clf = StanceClassifier(embedding=None).fit(texts, y, unlabelled_texts=["Great for safety"])
    P = clf.predict_proba(["Lanes keep children safe", "A waste of money"])
    assert P.shape == (2, 3) and np.allclose(P.sum(1), 1)
    assert list(clf.predict(["Lanes keep children safe", "A waste of money"])) == [
        "support",
        "oppose",
    ]
    only = StanceClassifier(embedding=None).fit(AGREE, ["AGREE"] * len(AGREE))
    assert list(only.predict(["anything"])) == ["AGREE"]
    with pytest.raises(RuntimeError):
        StanceClassifier().predict(["not fitted"])


def test_the_training_script_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    from benchmarks.train_stance_prior import main, motion_sign

    assert motion_sign("We should ban human cloning") == -1
    assert motion_sign("We should legalize cannabis") == 1
    src = tmp_path / "argkp"
    src.mkdir()
    with (src / "arguments_train.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["arg_id", "argument", "topic", "stance"])
        for i, t in enumerate(AGREE + DISAGREE):
            stance = 1 if t in AGREE else -1
            w.writerow([f"a{i}", t, "We should build cycle lanes", stance])
            w.writerow([f"b{i}", t, "We should ban cycle lanes", -stance])
    outs = [tmp_path / "one.json", tmp_path / "two.json"]
    for out in outs:
        assert main([str(src), "--out", str(out)]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
    prior = StancePrior.from_json(outs[0].read_text(encoding="utf-8"))
    good, bad = prior.score(["safe and healthy for children", "a waste of money"])
    assert good > bad


async def test_the_service_stance_run_predicts_from_text_deterministically(
    client: httpx.AsyncClient, users: Users, session: AsyncSession
) -> None:
    world = await make_world(client, users)
    codeframe = await world.published(THEMES)
    samples = await add_answers(session, world)
    coded = Coded(world, codeframe, samples, set())
    proposal_id = uuid.UUID(world.proposal_id)
    no_option = [s for s in samples if s.option is None]
    results = []
    for _ in range(2):
        run = await coded.run(session, "stance")
        assert run.status.value == "succeeded", run.error
        assert run.metrics["training_count"] == len(samples) - len(no_option)
        rows = await session.scalars(
            select(Stance)
            .where(Stance.proposal_id == proposal_id, Stance.run_id == run.id)
            .execution_options(populate_existing=True)
        )
        by_response = {s.response_id: s for s in rows}
        for s in no_option:
            stance = by_response[s.response_id]
            assert stance.evidence["source"] == "text" and 0 < (stance.confidence or 0) <= 1
        results.append({r: (s.value, s.confidence) for r, s in by_response.items()})
    assert results[0] == results[1]
    # Privacy and security complaints were "Disagree" in the stance question.
    privacy = [s for s in no_option if s.gold == ["P1-01"]]
    values = {results[0][s.response_id][0].value for s in privacy}
    assert values == {"oppose"}
