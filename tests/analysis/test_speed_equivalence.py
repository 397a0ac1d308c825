"""Speed changes that must not change results: each fast path gives exactly what the plain
computation gives."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from analysis import embeddings
from analysis.features import TextFeaturizer

TEXTS = [
    "The waiting time at the surgery was far too long.",
    "Staff were kind and the nurse explained everything clearly to me and my daughter.",
    "Parking!",
    "I could not get an appointment for three weeks, which is not acceptable for a child.",
    "Friendly reception, clean rooms, short wait.",
    "the doctor listened",
] * 3


@pytest.mark.parametrize("char_weight", [0.0, 0.5])
def test_featurizer_rows_of_fitted_texts_are_what_transform_computes(char_weight: float) -> None:
    fitted = TextFeaturizer(char_weight=char_weight)
    fitted.fit_transform([*TEXTS, "a description of a theme about waiting"])
    # Unpickled, the featurizer has no cached rows and computes every row.
    plain = pickle.loads(pickle.dumps(fitted))
    assert getattr(plain, "_fitted_rows", None) is None
    queries = [TEXTS[3], "a text it never saw about parking", TEXTS[0], "", TEXTS[3]]
    cached, computed = fitted.transform(queries), plain.transform(queries)
    assert cached.shape == computed.shape
    assert (cached.indptr == computed.indptr).all()
    assert (cached.indices == computed.indices).all()
    assert (cached.data == computed.data).all()


@pytest.mark.skipif(not embeddings.available("wordllama"), reason="wordllama not installed")
def test_wordllama_vectors_do_not_depend_on_the_batch() -> None:
    texts = [t * k for k, t in enumerate(TEXTS[:6], start=1)]  # mixed lengths
    together = embeddings._raw(texts, "wordllama")
    alone = np.vstack([embeddings._raw([t], "wordllama") for t in texts])
    assert (together == alone).all()


def test_stored_rounding_is_pythons_round() -> None:
    from app.coding.runs import _round6

    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.random(20_000),
            (np.arange(5_000) + 0.5) / 1e6,  # halves: where rint(p * 1e6) can differ
            [0.0, 1.0, 1e-7, 0.9999995, 5e-7, 0.1234565],
        ]
    ).reshape(-1, 2)
    expected = np.asarray([[round(v, 6) for v in row] for row in values.tolist()])
    assert (_round6(values) == expected).all()
