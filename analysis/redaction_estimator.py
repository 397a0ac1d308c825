"""PersonalDataRedactor: redaction as a scikit-learn transformer (kept apart from
analysis.redaction so the service's intake path does not import scikit-learn)."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from analysis.redaction import _normalise_kinds, redact_many


class PersonalDataRedactor(TransformerMixin, BaseEstimator):
    """Scikit-learn transformer: texts in, redacted texts out.

    Stateless: ``fit`` learns nothing and returns self, so it can sit at the
    front of a text pipeline (``make_pipeline(PersonalDataRedactor(), TfidfVectorizer())``).

    Parameters
    ----------
    kinds : tuple of str or None
        Which of ``EMAIL, PHONE, POSTCODE, NI_NUMBER, URL, NAME`` to redact
        (None: all).
    use_ner : bool
        Also use PERSON entities of an installed ``en_core_web_sm``.
    """

    def __init__(self, kinds: tuple[str, ...] | None = None, use_ner: bool = False) -> None:
        self.kinds = kinds
        self.use_ner = use_ner

    def fit(self, X: Any, y: Any = None) -> PersonalDataRedactor:
        _normalise_kinds(self.kinds)  # validate parameters at fit time
        return self

    def transform(self, X: Any) -> list[str]:
        if isinstance(X, str):
            raise ValueError("expected an iterable of texts, got a single string")
        return [r.text for r in redact_many(X, kinds=self.kinds, use_ner=self.use_ner)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
