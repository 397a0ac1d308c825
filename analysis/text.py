"""Shared spaCy helpers: one cached pipeline per process, streamed in batches.

Nothing here downloads anything. The blank English pipeline (tokenizer plus a
rule-based sentencizer) always works offline; a trained pipeline such as
``en_core_web_sm`` is used only when it is already installed as a package.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from spacy.language import Language
    from spacy.tokens import Doc

TRAINED_PIPELINE = "en_core_web_sm"
DEFAULT_BATCH_SIZE = 256


@lru_cache(maxsize=1)
def blank_pipeline() -> Language:
    """The process-wide ``spacy.blank("en")`` pipeline with a sentencizer."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def iter_docs(texts: Iterable[str], *, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[Doc]:
    """Stream texts through the blank pipeline with ``nlp.pipe``."""
    return blank_pipeline().pipe(texts, batch_size=batch_size)


def iter_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Character offsets ``(start, end)`` of the sentences of one text."""
    doc = blank_pipeline()(text)
    for sent in doc.sents:
        yield sent.start_char, sent.end_char


@lru_cache(maxsize=1)
def trained_pipeline_available(name: str = TRAINED_PIPELINE) -> bool:
    """True when a trained spaCy pipeline is installed as a package (never downloads)."""
    import spacy

    return bool(spacy.util.is_package(name))


@lru_cache(maxsize=1)
def trained_pipeline(name: str = TRAINED_PIPELINE) -> Language | None:
    """The installed trained pipeline reduced to what NER needs, or None if not installed."""
    if not trained_pipeline_available(name):
        return None
    import spacy

    nlp = spacy.load(name, exclude=["lemmatizer", "parser", "attribute_ruler", "senter"])
    return nlp
