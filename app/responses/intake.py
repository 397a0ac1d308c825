"""The shape of a consultation's form, and validation of one submission against it.

Pure functions over frozen specs: used by the API, the web form and file imports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.enums import QuestionKind, RespondentKind
from app.errors import ValidationFailed, field_error


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    id: uuid.UUID
    number: str
    text: str
    kind: QuestionKind
    options: tuple[str, ...]
    required: bool
    stance_map: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class FormSpec:
    consultation_id: uuid.UUID
    questions: tuple[QuestionSpec, ...]

    def by_id(self) -> dict[uuid.UUID, QuestionSpec]:
        return {q.id: q for q in self.questions}


@dataclass(frozen=True, slots=True)
class CleanAnswer:
    question_id: uuid.UUID
    text: str | None
    options: tuple[str, ...]


def answer_problem(
    spec: QuestionSpec, text: str | None, options: Iterable[str], max_chars: int
) -> str | None:
    """Why this answer is not acceptable for the question, or None."""
    chosen = list(options)
    if spec.kind == QuestionKind.open_text:
        if chosen:
            return f"Question {spec.number} takes text, not options."
        if text is not None and len(text) > max_chars:
            return f"The answer to question {spec.number} is longer than {max_chars} characters."
        return None
    if text:
        return f"Question {spec.number} takes a choice from its options, not text."
    unknown = [o for o in chosen if o not in spec.options]
    if unknown:
        return f"'{unknown[0]}' is not an option of question {spec.number}."
    if len(set(chosen)) != len(chosen):
        return f"An option of question {spec.number} is chosen twice."
    if spec.kind == QuestionKind.single_choice and len(chosen) > 1:
        return f"Question {spec.number} takes one option."
    return None


def is_blank(text: str | None, options: Iterable[str]) -> bool:
    return not (text or "").strip() and not list(options)


def respondent_problems(respondent: Any) -> list[dict[str, Any]]:
    if (
        respondent.kind == RespondentKind.organisation
        and not (respondent.organisation_name or "").strip()
    ):
        return [
            field_error(
                ["respondent", "organisation_name"],
                "Enter the name of the organisation you are responding for.",
                "required",
            )
        ]
    return []


def validate_submission(
    form: FormSpec, respondent: Any, answers: list[Any], *, max_chars: int
) -> list[CleanAnswer]:
    """Checks the respondent and every answer; raises one 422 listing every problem found."""
    problems = respondent_problems(respondent) if respondent is not None else []
    return validate_answers(form, answers, max_chars=max_chars, earlier_problems=problems)


def validate_answers(
    form: FormSpec,
    answers: list[Any],
    *,
    max_chars: int,
    loc_prefix: str = "answers",
    earlier_problems: list[dict[str, Any]] | None = None,
) -> list[CleanAnswer]:
    """Answers are objects with question_id, text and options; raises 422 naming each bad field."""
    questions = form.by_id()
    problems: list[dict[str, Any]] = list(earlier_problems or [])
    clean: list[CleanAnswer] = []
    seen: set[uuid.UUID] = set()
    for index, answer in enumerate(answers):
        spec = questions.get(answer.question_id)
        if spec is None:
            problems.append(
                field_error(
                    [loc_prefix, index, "question_id"],
                    "Not a question of this consultation.",
                    "unknown_question",
                )
            )
            continue
        if spec.id in seen:
            problems.append(
                field_error(
                    [loc_prefix, index, "question_id"],
                    f"Question {spec.number} is answered twice.",
                    "duplicate_answer",
                )
            )
            continue
        seen.add(spec.id)
        options = answer.options or []
        problem = answer_problem(spec, answer.text, options, max_chars)
        if problem:
            problems.append(field_error([loc_prefix, index], problem, "invalid_answer"))
            continue
        if not is_blank(answer.text, options):
            text = answer.text.strip() if answer.text else None
            clean.append(CleanAnswer(spec.id, text or None, tuple(options)))
    answered = {a.question_id for a in clean}
    for spec in form.questions:
        if spec.required and spec.id not in answered:
            problems.append(
                field_error(
                    [loc_prefix, str(spec.id)],
                    f"Question {spec.number} must be answered.",
                    "required",
                )
            )
    if not problems and not clean:
        problems.append(field_error([loc_prefix], "The response has no answers.", "empty_response"))
    if problems:
        raise ValidationFailed("The response is not valid; nothing was stored.", fields=problems)
    return clean
