"""Imports every domain's models so metadata is complete (Alembic, tests)."""

from app.audit.models import AuditEvent  # noqa: F401
from app.campaigns.models import Campaign  # noqa: F401
from app.challenges.models import Challenge, ChallengeMessage  # noqa: F401
from app.codeframes.models import Codeframe, Theme  # noqa: F401
from app.coding.models import Coding, RunArtefact, Stance  # noqa: F401
from app.consultations.models import Consultation, Proposal, Question
from app.discovery.models import ThemeSuggestion  # noqa: F401
from app.imports.models import Import
from app.jobs.models import AnalysisRun, AnalysisRunChunk  # noqa: F401
from app.responses.models import Answer, Respondent, Response
from app.samples.models import AuditSample, Review, SampleItem  # noqa: F401
from app.themes.models import AnswerCount, ThemeCount  # noqa: F401
from app.users.models import ApiToken, Membership, User

__all__ = [
    "Answer",
    "ApiToken",
    "Consultation",
    "Import",
    "Membership",
    "Proposal",
    "Question",
    "Respondent",
    "Response",
    "User",
]
