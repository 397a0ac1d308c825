"""The agreement endpoint: the figures are analysis/'s on the sample's reviews and codes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analysis.agreement import multilabel_prf, per_theme_agreement
from analysis.sampling import estimate_error_rate
from app.samples.models import SampleItem
from tests.conftest import Users
from tests.test_samples import AuditWorld, make_audit_world

THEME_CODES = ["P1-01", "P1-02", "P1-03"]


@pytest.fixture
async def aw(client: httpx.AsyncClient, users: Users, session: AsyncSession) -> AuditWorld:
    return await make_audit_world(client, users, session)


async def items_by_position(session: AsyncSession, sample_id: str) -> list[SampleItem]:
    return list(
        await session.scalars(
            select(SampleItem)
            .where(SampleItem.sample_id == uuid.UUID(sample_id))
            .order_by(SampleItem.position)
        )
    )


def flip(themes: set[str], code: str) -> set[str]:
    return themes ^ {code}


async def review_all(
    aw: AuditWorld,
    sample_id: str,
    headers: dict[str, str],
    items: list[SampleItem],
    flips: dict[int, str],
) -> dict[str, set[str]]:
    """Reviews every item: the drawn codes, with one theme flipped at the given positions."""
    out = {}
    for item in items:
        themes = set(item.codes["present"])
        if item.position in flips:
            themes = flip(themes, flips[item.position])
        put = await aw.client.put(
            f"/api/v1/audit-samples/{sample_id}/items/{item.id}/review",
            json={"themes": sorted(themes)},
            headers=headers,
        )
        assert put.status_code == 200, put.text
        out[str(item.id)] = themes
    return out


def same_estimate(api: dict[str, Any], expected: Any) -> None:
    assert api["value"] == pytest.approx(expected.value)
    assert api["low"] == pytest.approx(expected.low)
    assert api["high"] == pytest.approx(expected.high)
    assert api["n"] == expected.n


async def test_agreement_of_two_reviewers_and_the_current_codes(
    aw: AuditWorld, session: AsyncSession
) -> None:
    sample = await aw.draw(size=8, seed=21)
    sample_id = sample.json()["id"]
    url = f"/api/v1/audit-samples/{sample_id}/agreement"
    empty = await aw.client.get(url, headers=aw.world.headers)
    assert empty.status_code == 200, empty.text
    assert empty.json()["reviews"] == 0 and empty.json()["among_reviewers"] is None
    assert empty.json()["error_rate"]["overall"] is None

    items = await items_by_position(session, sample_id)
    first, second = await aw.reviewer(), await aw.reviewer()
    a = await review_all(aw, sample_id, first, items, {1: "P1-02", 2: "P1-02"})
    b = await review_all(aw, sample_id, second, items, {1: "P1-02", 3: "P1-01"})
    response = await aw.client.get(url, headers=first)  # reviewers see the dashboard too
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reviewers"] == ["Reviewer 1", "Reviewer 2"]
    assert body["items"] == 8 and body["reviewed_items"] == 8 and body["reviews"] == 16
    assert body["themes"] == THEME_CODES and body["unit"] == "answer x theme (present/absent)"

    seed = 21
    among = per_theme_agreement(
        {"Reviewer 1": a, "Reviewer 2": b}, themes=THEME_CODES, n_resamples=1000, seed=seed
    )
    api = body["among_reviewers"]
    for key in ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"):
        same_estimate(api["overall"][key], getattr(among.overall, key))
        for code in THEME_CODES:
            same_estimate(api["per_theme"][code][key], getattr(among.per_theme[code], key))
    same_estimate(api["krippendorff_alpha_masi"], among.krippendorff_alpha_masi)
    assert api["per_theme"]["P1-02"]["prevalence"]["value"] == pytest.approx(
        among.per_theme["P1-02"].prevalence.value
    )

    current = {str(i.id): set(i.codes["present"]) for i in items}
    with_current = per_theme_agreement(
        {"current codes": current, "Reviewer 1": a, "Reviewer 2": b},
        themes=THEME_CODES,
        n_resamples=1000,
        seed=seed,
    )
    same_estimate(
        body["reviewers_and_current"]["overall"]["fleiss_kappa"],
        with_current.overall.fleiss_kappa,
    )
    assert body["reviewers_and_current"]["overall"]["cohen_kappa"] is None  # three coders

    # Each reviewer against the current codes: Cohen's kappa (two coders) and P/R/F1.
    per = {r["reviewer"]: r for r in body["per_reviewer"]}
    pair = per_theme_agreement(
        {"current codes": current, "Reviewer 2": b}, themes=THEME_CODES, seed=seed
    )
    same_estimate(
        per["Reviewer 2"]["agreement"]["overall"]["cohen_kappa"], pair.overall.cohen_kappa
    )
    keys = sorted(current)
    fit = multilabel_prf([a[k] for k in keys], [current[k] for k in keys], labels=THEME_CODES)
    assert per["Reviewer 1"]["micro"]["f1"]["value"] == pytest.approx(fit.micro.f1)
    low, high = per["Reviewer 1"]["micro"]["f1"]["low"], per["Reviewer 1"]["micro"]["f1"]["high"]
    assert low <= fit.micro.f1 <= high

    # Pooled: every review is a row (current codes predicted, the review as gold).
    pooled = multilabel_prf(
        [a[k] for k in keys] + [b[k] for k in keys],
        [current[k] for k in keys] * 2,
        labels=THEME_CODES,
    )
    prf = body["current_vs_reviewers"]
    assert prf["micro"]["precision"]["value"] == pytest.approx(pooled.micro.precision)
    assert prf["micro"]["recall"]["value"] == pytest.approx(pooled.micro.recall)
    assert prf["samples"]["f1"]["value"] == pytest.approx(pooled.samples.f1)
    for code in THEME_CODES:
        label = prf["per_label"][code]
        assert label["f1"]["value"] == pytest.approx(pooled.per_label[code].f1)
        assert label["prevalence"]["value"] == pytest.approx(pooled.per_label[code].prevalence)

    # Error rate: item 1 is miscoded for both reviewers; items 2 and 3 for one of two only
    # (half agree with the code, so not counted). Simple design: one stratum of 30 answers.
    expected = estimate_error_rate({"all": (1, 8, 30)})
    rate = body["error_rate"]
    assert rate["overall"]["value"] == pytest.approx(1 / 8)
    assert rate["overall"]["low"] == pytest.approx(expected.overall.low)
    assert rate["overall"]["high"] == pytest.approx(expected.overall.high)
    assert rate["per_stratum"]["all"]["errors"] == 1 and rate["per_stratum"]["all"]["n"] == 8
    assert "fewer than half" in rate["definition"]


async def test_stratified_error_rate_is_weighted_to_the_population(
    aw: AuditWorld, session: AsyncSession
) -> None:
    sample = await aw.draw(design="stratified", stratify_by="respondent_kind", size=6, seed=4)
    body = sample.json()
    sample_id = body["id"]
    assert body["population_sizes"] == {"individual": 20, "organisation": 10}
    items = await items_by_position(session, sample_id)
    reviewer = await aw.reviewer()
    url = f"/api/v1/audit-samples/{sample_id}/agreement"

    # Review only the individuals' items first: no weighted estimate yet, and it says why.
    individuals = [i for i in items if i.stratum == "individual"]
    organisations = [i for i in items if i.stratum == "organisation"]
    await review_all(aw, sample_id, reviewer, individuals, {individuals[0].position: "P1-03"})
    partial = (await aw.client.get(url, headers=reviewer)).json()
    assert partial["error_rate"]["overall"] is None
    assert any("organisation" in note for note in partial["notes"])
    assert partial["error_rate"]["per_stratum"]["individual"]["errors"] == 1
    assert partial["among_reviewers"] is None  # one reviewer

    await review_all(aw, sample_id, reviewer, organisations, {})
    full = (await aw.client.get(url, headers=reviewer)).json()
    n_ind, n_org = len(individuals), len(organisations)
    expected = estimate_error_rate({"individual": (1, n_ind, 20), "organisation": (0, n_org, 10)})
    rate = full["error_rate"]
    assert rate["overall"]["value"] == pytest.approx(expected.overall.value)
    assert rate["overall"]["value"] == pytest.approx(20 / 30 * 1 / n_ind)
    assert rate["overall"]["low"] == pytest.approx(expected.overall.low)
    assert rate["overall"]["high"] == pytest.approx(expected.overall.high)
    assert rate["unweighted"]["value"] == pytest.approx(1 / 6)
    per = rate["per_stratum"]["organisation"]
    assert (per["errors"], per["n"], per["population"]) == (0, n_org, 10)
    assert per["rate"]["method"] == "wilson" and per["rate"]["high"] > 0
