"""Deterministic content for the demo consultation ("Better use of data in government").

Pure data: no database code. ``build_demo(seed)`` returns frozen dataclasses that a loader
turns into a consultation, its proposals, questions, themes and responses, so that a new
user of ``consult serve --demo`` sees every feature: open, closed and draft consultations,
stance questions, a multiple-choice question, free text that carries known ("gold") themes
and stance, an organised text campaign, letters that arrive by email and post without the
closed questions answered, and personal data that redaction has to find.

Every sentence below was written for Consult (the subjects of the proposals paraphrase the
2016 UK "Better Use of Data in Government" consultation; no response text is copied from
it). People, organisations, emails, phone numbers (Ofcom drama ranges), postcodes and
National Insurance numbers (the never-issued ``QQ`` prefix) are fictional.

Determinism: everything is drawn from ``random.Random`` instances seeded from ``seed``; no
global random state, no clock, no iteration over sets.

Gold labels, per response:

* ``gold_themes[question_key]`` -- the theme codes whose sentence templates were used to
  write that open-text answer (an empty tuple for "No comment" or stance-only text).
* ``gold_stance[stance_question_key]`` -- the stance the respondent meant for that
  proposal: the stance the free text was written from where the respondent wrote about
  the proposal ("support", "oppose", "mixed" or "neutral"), otherwise the stance that the
  chosen option maps to. About 7% of respondents tick an option that does not match
  their text, so the gold and the ticked option differ there.
* ``personal_data[question_key]`` -- the exact personal-data substrings written into that
  answer (names, emails, phone numbers, postcodes, addresses, NI numbers), for testing
  redaction.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

__all__ = [
    "CAMPAIGN_SLUG",
    "CAMPAIGN_TEMPLATE",
    "STANCE_MAP",
    "STANCE_OPTIONS",
    "DemoConsultation",
    "DemoProposal",
    "DemoQuestion",
    "DemoRespondent",
    "DemoResponse",
    "DemoTheme",
    "build_demo",
]

# ---------------------------------------------------------------------------
# Public dataclasses
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoQuestion:
    key: str  # unique within its consultation, e.g. "p1_q2"
    number: str  # as printed on the form, e.g. "2" or "8a"
    text: str
    kind: str  # "open_text" | "single_choice" | "multi_choice"
    options: tuple[str, ...]
    required: bool
    stance_map: dict[str, str] | None  # option -> "support" | "oppose" | "neutral"


@dataclass(frozen=True)
class DemoTheme:
    code: str  # e.g. "P1-01"; unique across all demo consultations
    label: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class DemoProposal:
    title: str
    summary: str
    questions: tuple[DemoQuestion, ...]
    themes: tuple[DemoTheme, ...]


@dataclass(frozen=True)
class DemoRespondent:
    kind: str  # "individual" | "organisation"
    name: str | None  # the individual, or the organisation's contact person
    organisation_name: str | None
    organisation_type: str | None  # "charity", "local authority", "business", ...
    email: str | None  # None only for some letters sent by post
    region: str
    publication_consent: str  # "publish" | "publish_anonymously" | "do_not_publish"
    channel: str  # "web" | "email" | "post" | "api"


@dataclass(frozen=True)
class DemoResponse:
    respondent: DemoRespondent
    answers: dict[str, str | tuple[str, ...]]  # question key -> text, or chosen options
    submitted_at: datetime
    campaign: str | None
    gold_themes: dict[str, tuple[str, ...]]  # open question key -> theme codes
    gold_stance: dict[str, str]  # stance question key -> support|oppose|mixed|neutral
    personal_data: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoConsultation:
    slug: str
    title: str
    description: str
    status: str  # "draft" | "open" | "closed" | "published"
    opens_at: datetime
    closes_at: datetime
    proposals: tuple[DemoProposal, ...]
    responses: tuple[DemoResponse, ...]
    extra_consultations: tuple[DemoConsultation, ...] = ()


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

STANCE_TEXT = "Do you agree with this proposal?"
STANCE_OPTIONS: tuple[str, ...] = ("Agree", "Disagree", "Neither agree nor disagree")
STANCE_MAP: dict[str, str] = {
    "Agree": "support",
    "Disagree": "oppose",
    "Neither agree nor disagree": "neutral",
}
_OPTION_FOR: dict[str, str] = {
    "support": "Agree",
    "oppose": "Disagree",
    "neutral": STANCE_OPTIONS[2],
}

SAFEGUARD_OPTIONS: tuple[str, ...] = (
    "Independent oversight of every data sharing agreement",
    "A public register of data sharing agreements",
    "Criminal penalties for misuse of data",
    "The right to opt out",
    "Regular audits with published results",
)

CAMPAIGN_SLUG = "protect-our-data"
CAMPAIGN_SIZE = 60
CAMPAIGN_TEMPLATE = (
    "Protect our data: no sharing without consent.\n\n"
    "I am writing to object to the proposal to let public bodies share personal information "
    "about us without asking first. The details we give to a council, a school or a job "
    "centre are given for one purpose and in confidence. They should not be copied to other "
    "parts of government unless we have given clear and informed consent. Every extra copy "
    "of our records is another chance for them to be lost, hacked or misused, and once data "
    "has been shared it can never be taken back. Good public services depend on trust, and "
    "trust depends on people knowing that what they say will not be passed around behind "
    "their backs. I urge you to withdraw this proposal, or at the very least to guarantee "
    "that no one's data is shared without their agreement, that everyone has a simple way "
    "to opt out, and that an independent body oversees every data sharing arrangement and "
    "reports publicly on how it is used."
)
# Sentences of the template and the theme each one expresses (None: no theme).
_CAMPAIGN_TITLE, _CAMPAIGN_BODY = CAMPAIGN_TEMPLATE.split("\n\n")
_CAMPAIGN_SENTENCE_THEMES: tuple[tuple[str, str | None], ...] = tuple(
    zip(
        re.split(r"(?<=\.) ", _CAMPAIGN_BODY),
        ("P1-03", "P1-03", "P1-04", "P1-08", "P1-06", "P1-05"),
        strict=True,
    )
)

OPENS_AT = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
CLOSES_AT = datetime(2027, 3, 31, 23, 59, tzinfo=UTC)
DEMO_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

# ---------------------------------------------------------------------------
# Theme and proposal specifications (private)
# ---------------------------------------------------------------------------
# Template markers: a leading "!" means individuals only (first person singular),
# "@" organisations only (first person plural). Unmarked templates are impersonal.
# "{slot}" is filled from the proposal's context, the persona or the shared vocabulary.


@dataclass(frozen=True)
class _ThemeSpec:
    code: str
    label: str
    description: str
    keywords: tuple[str, ...]
    leaning: str  # "support" | "oppose" | "conditional" | "neutral"
    templates: tuple[str, ...]

    def public(self) -> DemoTheme:
        return DemoTheme(self.code, self.label, self.description, self.keywords)


@dataclass(frozen=True)
class _ProposalSpec:
    code: str  # "P1"
    title: str
    summary: str
    context: dict[str, tuple[str, ...]]
    themes: tuple[_ThemeSpec, ...]
    questions: tuple[DemoQuestion, ...]
    stance_key: str
    explain_key: str
    extra: tuple[tuple[str, tuple[str, ...]], ...]  # (open question key, theme pool)
    multi_key: str | None
    base: tuple[float, float, float, float]  # support, oppose, mixed, neutral
    interest: float  # how likely an individual is to write about it


def _theme(
    code: str, label: str, description: str, keywords: str, leaning: str, *templates: str
) -> _ThemeSpec:
    return _ThemeSpec(
        code,
        label,
        description,
        tuple(k.strip() for k in keywords.split(",")),
        leaning,
        templates,
    )


def _stance_q(key: str, number: str) -> DemoQuestion:
    return DemoQuestion(key, number, STANCE_TEXT, "single_choice", STANCE_OPTIONS, True, STANCE_MAP)


def _open_q(key: str, number: str, text: str) -> DemoQuestion:
    return DemoQuestion(key, number, text, "open_text", (), False, None)


_EXPLAIN = "Please explain your answer, including any benefits or risks you see."

_P1 = _ProposalSpec(
    code="P1",
    title="Tailored public services",
    summary=(
        "Allow named public bodies to share personal data with each other for purposes set "
        "out in regulations, so that they can spot people who may need help (for example "
        "families facing several problems at once, or older people at risk) and offer them "
        "joined-up support. Sharing would follow a statutory code of practice."
    ),
    context={
        "data": (
            "personal data",
            "people's personal information",
            "our personal information",
            "information about families",
            "sensitive personal information",
        ),
        "bodies": (
            "councils, schools and job centres",
            "different public bodies",
            "local services",
            "public services",
            "agencies",
        ),
        "people": (
            "vulnerable families",
            "people who need extra help",
            "families in difficulty",
            "people with complex needs",
            "older people living alone",
        ),
        "scheme": ("this proposal", "the proposal", "this power", "this plan"),
    },
    themes=(
        _theme(
            "P1-01",
            "Earlier help for vulnerable people",
            "Sharing would let services find and help people who need support sooner.",
            "vulnerable, help, support, early, crisis, missed, families",
            "support",
            "Help that arrives before things fall apart is worth far more than help that "
            "arrives afterwards.",
            "!My brother struggled for years and every service he saw only dealt with one "
            "piece of the problem.",
            "Sharing could mean a carer or a child at risk is noticed rather than overlooked.",
            "{scheme} could help {people} get support before they reach crisis point.",
            "Too many {people} fall through the gaps because no single service sees the "
            "whole picture.",
            "If {bodies} can see who is struggling, they can offer help earlier instead of "
            "waiting for people to ask.",
            "{think} this would mean fewer {people} missing out on help they are entitled to.",
            "!When my mother was ill, nobody told us what support she could get until it was "
            "almost too late.",
            "!As a single parent I had to find out about help on my own, and I would have "
            "welcomed someone reaching out to me.",
            "Used properly, shared information could protect children and older people who "
            "would otherwise be missed.",
            "@In our frontline work we regularly meet {people} who were known to three or "
            "four agencies but helped by none of them.",
            "@We see every week how early, coordinated help changes outcomes for {people}.",
        ),
        _theme(
            "P1-02",
            "Joined-up and efficient services",
            "Sharing would cut duplication, repeated form filling and wasted public money.",
            "joined-up, efficient, duplication, forms, silos, tell us once, save money",
            "support",
            "!Every time I move house I have to update the same details with five different"
            " offices.",
            "Staff spend hours chasing information that another office already holds.",
            "Joined-up records would save time for both the public and front-line staff.",
            "People should not have to give the same information again and again to "
            "different parts of {gov}.",
            "Joining up {data} would cut duplication and paperwork for everyone.",
            "!I have lost count of how many forms I have filled in asking for exactly the "
            "same details.",
            "It makes sense for {bodies} to talk to each other rather than working in silos.",
            "{think} sharing data would make services quicker and save public money.",
            "A tell-us-once approach would be far more convenient for the public.",
            "Services that share information can plan better and avoid wasting money.",
            "@Duplicated assessments waste staff time that could be spent supporting residents.",
        ),
        _theme(
            "P1-03",
            "Privacy and state intrusion",
            "Sharing would intrude on private life or move towards a surveillance state.",
            "privacy, intrusion, big brother, surveillance, private, snooping, state",
            "oppose",
            "Ordinary people should be able to use public services without being watched.",
            "!I do not want the state building a file on my family.",
            "There is a line between helping people and monitoring them, and {scheme} crosses it.",
            "This is a serious intrusion into people's private lives.",
            "{worry} that {scheme} is a step towards a surveillance state.",
            "What people tell their GP or the council is private and should stay that way.",
            "It feels like Big Brother, with {gov} knowing everything about everyone.",
            "Privacy is a basic right, and {scheme} treats it as an inconvenience.",
            "!I already feel that too many officials know my business, and this would make "
            "it worse.",
            "Families who have done nothing wrong should not have their lives picked over "
            "by officials.",
            "@Routine sharing of {data} without a clear legal limit is a disproportionate "
            "interference with privacy.",
        ),
        _theme(
            "P1-04",
            "Consent and the right to opt out",
            "People should be asked before their data is shared, or be able to opt out.",
            "consent, permission, opt out, ask first, choice, agree",
            "conditional",
            "!If anyone wants to share my data they should ask me first, full stop.",
            "Opting out should be as easy as ticking a box.",
            "People cannot give meaningful consent if they are never told what is being shared.",
            "Personal data should only be shared with people's explicit consent.",
            "People {must} be asked first and given a genuine choice.",
            "There {must} be a simple way to opt out.",
            "!Nobody has ever asked me whether I am happy for my details to be passed on.",
            "If the help is really for people's benefit, {gov} should have no trouble "
            "getting their permission.",
            "Consent should be informed, freely given and easy to withdraw.",
            "!I would be happy for my information to be used if I was asked, but not behind "
            "my back.",
            "@Consent should remain the default basis for sharing, with clearly defined "
            "exceptions only where someone is at risk of harm.",
        ),
        _theme(
            "P1-05",
            "Safeguards and independent oversight",
            "Sharing is acceptable only with strong rules, audits, penalties and independent "
            "oversight.",
            "safeguards, oversight, independent, audit, penalties, accountability, code of "
            "practice",
            "conditional",
            "!I could accept this if there were proper checks and someone independent "
            "keeping an eye on it.",
            "Every agreement should be reviewed after a fixed period and scrapped if it is "
            "not working.",
            "Misuse of shared records must carry real penalties, not just an apology.",
            "There {must} be strong safeguards and independent oversight of how {data} is used.",
            "Any sharing should be audited regularly and the results published.",
            "There should be criminal penalties for officials who misuse {data}.",
            "An independent body, not the department itself, should approve each data "
            "sharing agreement.",
            "The Information Commissioner needs the powers and the resources to police "
            "this properly.",
            "{think} {scheme} is acceptable only with clear rules on who can see what and "
            "for how long.",
            "Data should be deleted once it has served its purpose.",
            "@We would support the proposal subject to a statutory code of practice, "
            "independent review and a sunset clause.",
        ),
        _theme(
            "P1-06",
            "Trust in government's handling of data",
            "Doubts that government can be trusted with the data, given its track record.",
            "trust, track record, confidence, mistakes, promises",
            "oppose",
            "!Frankly, after all the scandals, I would not trust them to look after a "
            "library card.",
            "Governments change, and the next one may use this data in ways nobody intends today.",
            "Trust in {gov} is low, and {scheme} will only make it lower.",
            "!I simply do not trust {gov} to look after this information.",
            "{gov} has a poor track record with data and big IT projects.",
            "Public trust has to be earned, and it has not been earned yet.",
            "!After the way my benefit claim was handled, I have no confidence in how they "
            "use my details.",
            "Promises about limits tend to be forgotten when the next minister arrives.",
            "People will stop being honest with services if they think everything is passed on.",
            "There is very little public confidence that {gov} will stick to the rules it "
            "sets itself.",
            "@Public confidence is fragile; a single high-profile misuse would undermine "
            "support for all data sharing.",
        ),
        _theme(
            "P1-07",
            "Stigma, profiling and discrimination",
            "Risk that families are labelled, profiled by algorithms or treated unfairly.",
            "stigma, label, profiling, algorithm, discrimination, flagged, bias",
            "oppose",
            "!My son has a disability and I worry he would be marked down as a problem case.",
            "Computer models trained on past decisions will repeat past prejudices.",
            "A risk score can become a label that follows a child through school.",
            "Families could be labelled as troubled on the basis of data they never saw.",
            "{worry} that algorithms will be used to profile people and decide who is a problem.",
            "This will fall hardest on poorer families, who are already watched more than "
            "anyone else.",
            "Being flagged by a computer system could follow someone for years.",
            "There is a real risk of discrimination against particular communities.",
            "!My family was once wrongly flagged by social services and it took months to "
            "clear our name.",
            "@Predictive risk scoring of families raises serious concerns about bias and stigma.",
        ),
        _theme(
            "P1-08",
            "Data security and breaches",
            "More copies of the data mean more risk of loss, hacking or leaks.",
            "security, breach, hacked, leak, lost, cyber, encryption",
            "oppose",
            "!I work in IT and I know how easily systems like this get breached.",
            "Each new connection between systems is another door for hackers to try.",
            "No system is completely secure, so the less that is shared the better.",
            "The more places {data} is copied to, the more likely it is to be lost or hacked.",
            "{worry} that a single breach could expose millions of records.",
            "Public bodies keep losing laptops and memory sticks, so how can this be safe?",
            "Information held by {bodies} is an obvious target for criminals.",
            "!My details were caught up in a data breach last year and I still get scam calls.",
            "Security has to be built in from the start, with encryption and strict access "
            "controls.",
            "@Sharing arrangements must meet recognised security standards and be tested "
            "independently.",
        ),
    ),
    questions=(
        _stance_q("p1_q1", "1"),
        _open_q("p1_q2", "2", _EXPLAIN),
        DemoQuestion(
            "p1_q3",
            "3",
            "Which safeguards matter most to you?",
            "multi_choice",
            SAFEGUARD_OPTIONS,
            False,
            None,
        ),
        _open_q("p1_q4", "4", "What other safeguards, if any, should apply to this power?"),
    ),
    stance_key="p1_q1",
    explain_key="p1_q2",
    extra=(("p1_q4", ("P1-04", "P1-05", "P1-08", "P1-06")),),
    multi_key="p1_q3",
    base=(0.30, 0.35, 0.25, 0.10),
    interest=0.30,
)

_P2 = _ProposalSpec(
    code="P2",
    title="Civil registration",
    summary=(
        "Allow the registration service to share information from birth, marriage, civil "
        "partnership and death registrations with other public bodies where this helps them "
        "do their jobs, for example keeping records up to date and not writing to people "
        "who have died."
    ),
    context={
        "data": (
            "birth and death records",
            "registration data",
            "civil registration information",
            "details from certificates",
        ),
        "bodies": (
            "public bodies",
            "councils and government departments",
            "other departments",
            "local services",
        ),
        "people": ("bereaved families", "people who have lost a relative", "grieving families"),
        "scheme": ("this proposal", "sharing registration data", "the proposal", "this change"),
    },
    themes=(
        _theme(
            "P2-01",
            "Easing things for bereaved families",
            "Sharing death registrations would spare families repeated notifications and "
            "upsetting letters.",
            "bereaved, death, tell us once, letters, distress, grieving",
            "support",
            "!Losing my mum was hard enough without having to send her death certificate to"
            " nine different places.",
            "A single notification after a death would be a kindness to families.",
            "Letters to people who have died cause real upset to those left behind.",
            "When someone dies, families should not have to tell dozens of organisations "
            "separately.",
            "Sharing {data} would spare {people} a lot of distress.",
            "!After my husband died I kept getting letters addressed to him for months, "
            "which was awful.",
            "!When my dad passed away I spent weeks on the phone to different offices "
            "repeating the same news.",
            "{think} this would stop letters and bills being sent to people who have died.",
            "Anything that reduces the paperwork after a death is welcome.",
            "Nobody should have to explain a death over and over again while they are grieving.",
            "@Bereaved clients tell us that repeated requests for the same death "
            "certificate are one of the most upsetting parts of the process.",
        ),
        _theme(
            "P2-02",
            "Accurate and up-to-date records",
            "Registration data would keep public records correct and stop payments and "
            "fraud after death.",
            "accurate, up to date, records, electoral register, identity fraud, payments",
            "support",
            "!My late aunt kept receiving a pension for months and then the family had to "
            "pay it all back.",
            "Registers that are out of date lead to wasted letters and wasted money.",
            "Accurate records mean fewer mistakes for everyone.",
            "Using {data} would keep public records accurate and up to date.",
            "It would help stop benefits and pensions being paid after someone has died.",
            "Identity fraud using dead people's details could be cut down.",
            "Councils could keep the electoral register up to date more easily.",
            "It is sensible for official records to be based on registration data that "
            "already exists.",
            "{think} it is common sense for departments to know when someone has died.",
            "@Timely access to registration data would reduce errors in our records and the "
            "cost of correcting them.",
        ),
        _theme(
            "P2-03",
            "Sensitive records need protecting",
            "Adoption, gender recognition, stillbirth and protected identities need special "
            "handling or exclusion.",
            "adoption, gender recognition, stillbirth, sensitive, domestic abuse, protected",
            "conditional",
            "!I had a stillbirth and the thought of that record being passed around is "
            "distressing.",
            "Anyone who has changed their name to escape an abuser must be protected.",
            "Some entries on the register are far more sensitive than they look.",
            "Some records, such as adoptions and gender recognition, are extremely sensitive "
            "and must be left out.",
            "Information about stillbirths should be handled with great care.",
            "People who have changed their identity for their own safety could be put at risk.",
            "!As an adopted person I would be very uncomfortable with my original birth "
            "record being passed around.",
            "There needs to be special protection for people fleeing domestic abuse.",
            "A careless disclosure of a gender recognition record could cause real harm.",
            "@Records linked to adoption, gender recognition or witness protection should be "
            "excluded from any bulk sharing.",
        ),
        _theme(
            "P2-04",
            "Privacy of registration details",
            "Registration is a legal duty, not consent to wider use; sharing could build "
            "profiles of people.",
            "privacy, profile, tracking, private, legal duty, family",
            "oppose",
            "!Nobody told me when I registered my daughter that her details might go elsewhere.",
            "A marriage certificate is not an invitation to share details with every department.",
            "Registration records reveal a lot about family life and should stay where they are.",
            "Registration was never meant to become a tool for tracking people.",
            "{worry} that {data} will be combined with other information to build profiles.",
            "People register births and deaths because the law requires it, not so the "
            "information can be spread around.",
            "This would turn a simple public duty into yet another source of data about people.",
            "!I registered my son's birth to get a certificate, not to have his details "
            "handed to every department.",
            "Births, marriages and deaths are private family matters.",
            "@Compulsory registration creates a particular duty of care, and wider onward "
            "use erodes it.",
        ),
        _theme(
            "P2-05",
            "Clear limits and oversight",
            "Sharing should be limited to named purposes, minimal data and logged access.",
            "limits, minimum, purpose, oversight, logged, agreement",
            "conditional",
            "!I am fine with this as long as it is only used for the purposes it says.",
            "Each receiving body should have to justify why it needs the information.",
            "Data that is shared should be deleted once it has been used.",
            "Sharing should be limited to specific named purposes set out in law.",
            "Only the minimum information needed should be shared.",
            "There should be a public list of which bodies receive {data} and why.",
            "{think} this is fine as long as there are clear limits and proper oversight.",
            "Access should be logged and checked regularly.",
            "Each request for {data} should be approved by someone independent.",
            "@We support the proposal provided each disclosure is covered by a published "
            "agreement and reviewed regularly.",
        ),
        _theme(
            "P2-06",
            "Identity theft and data security",
            "Registration details are valuable to criminals; wider copies raise the risk.",
            "identity theft, security, leak, criminals, maiden name, breach",
            "oppose",
            "!Someone opened a credit card in my late mother's name the month after she died.",
            "Dates of birth and addresses together are a gift to fraudsters.",
            "Security checks should be independently tested before any records are sent.",
            "Registration data is exactly what identity thieves want.",
            "{worry} that copies of {data} will end up in insecure systems.",
            "The more organisations that hold these records, the greater the chance of a leak.",
            "Mothers' maiden names and dates of birth are used for security checks, so "
            "sharing them widely is risky.",
            "!My late father's identity was stolen after his death and it took us a year to "
            "sort out.",
            "Every new copy of {data} is another target for hackers.",
            "@Any onward sharing must be encrypted, access-controlled and subject to breach "
            "notification.",
        ),
    ),
    questions=(_stance_q("p2_q1", "5"), _open_q("p2_q2", "6", _EXPLAIN)),
    stance_key="p2_q1",
    explain_key="p2_q2",
    extra=(),
    multi_key=None,
    base=(0.40, 0.25, 0.25, 0.10),
    interest=0.15,
)

_P3 = _ProposalSpec(
    code="P3",
    title="Fuel poverty",
    summary=(
        "Allow government to share information about people receiving certain benefits with "
        "energy suppliers, so that eligible households get energy bill discounts "
        "automatically instead of having to apply. Suppliers would receive only what they "
        "need to apply the discount."
    ),
    context={
        "data": (
            "benefits data",
            "information about people's benefits",
            "household data",
            "people's details",
        ),
        "bodies": ("energy suppliers", "energy companies", "suppliers"),
        "people": (
            "households in fuel poverty",
            "older people",
            "low-income households",
            "families struggling with heating bills",
        ),
        "scheme": ("this proposal", "the scheme", "automatic discounts", "this plan"),
    },
    themes=(
        _theme(
            "P3-01",
            "Automatic help for eligible households",
            "Automatic discounts reach people who would never apply, raising take-up.",
            "automatic, discount, rebate, eligible, apply, take-up, entitled",
            "support",
            "!It took me three phone calls and a form I could not understand to get the "
            "discount last year.",
            "If the government already knows who is eligible, it should simply give them "
            "the discount.",
            "People who most need help are often the least able to chase it.",
            "Making the discount automatic means help reaches the people who need it without "
            "them having to apply.",
            "Many {people} never claim because the process is too complicated.",
            "{think} automatic discounts are a sensible use of data that already exists.",
            "!My elderly neighbour did not know she was entitled to a discount until I "
            "helped her apply.",
            "!I only found out about the rebate by chance after two winters of struggling.",
            "This would increase take-up among those least likely to fill in forms.",
            "It is wrong that help depends on knowing the right form to fill in.",
            "@Automatic data matching reaches far more eligible households than schemes "
            "that rely on applications.",
        ),
        _theme(
            "P3-02",
            "Health and cold homes",
            "Helping people heat their homes protects health and saves lives.",
            "cold, health, winter, heating, damp, NHS, deaths",
            "support",
            "!My dad's chest gets much worse whenever he cannot afford to put the heating on.",
            "Damp and cold in the home cause illness that costs far more to treat than to prevent.",
            "Keeping older people warm keeps them out of hospital.",
            "Cold homes make people ill, so anything that helps people heat their homes "
            "saves lives.",
            "Every winter older people die because they cannot afford to keep warm.",
            "Warmer homes would take pressure off the NHS.",
            "!Last winter I had to choose between heating and eating more than once.",
            "Children in cold, damp homes suffer from asthma and miss school.",
            "!My flat is so cold in January that I sit in my coat.",
            "@Excess winter deaths and cold-related illness are largely preventable with "
            "timely support.",
        ),
        _theme(
            "P3-03",
            "Sharing with private energy companies",
            "Objection to commercial suppliers receiving government data about people's benefits.",
            "energy companies, private, commercial, marketing, suppliers, profit",
            "oppose",
            "Once a commercial company has the data, there is little control over what it "
            "does with it.",
            "!I would switch supplier if I found out mine had been given my benefit details.",
            "There is no reason a supplier needs to know why a customer qualifies.",
            "!I do not want {bodies} knowing what benefits I receive.",
            "Private companies should not be given government data about people's circumstances.",
            "{worry} that suppliers will use the information for marketing or to push "
            "people onto worse tariffs.",
            "Energy companies have not earned the right to hold sensitive information.",
            "It should be the government, not the supplier, that decides who is eligible.",
            "!My supplier cannot even get my bills right, so I would not trust them with this.",
            "Commercial firms answer to shareholders, not to the people whose data they hold.",
            "@Suppliers should receive only a yes or no eligibility flag, never the "
            "underlying benefit details.",
        ),
        _theme(
            "P3-04",
            "Consent and opting out",
            "Claimants should be told about the matching and be able to opt out.",
            "consent, opt out, told, choice, permission, informed",
            "conditional",
            "!Just ask people when they sign up for benefits, most will say yes.",
            "A tick box on the benefit claim form would solve the consent problem.",
            "People should be told in plain words what will be shared with their supplier.",
            "People should be told their data will be used and be able to opt out.",
            "Consent could simply be asked for when people claim benefits.",
            "There should be a clear choice, even if most people would say yes.",
            "!I would happily agree to this if someone asked me.",
            "A simple opt-out would answer most of the privacy worries.",
            "Nobody should find out from their energy bill that their benefits data was shared.",
            "@We recommend that claimants are informed at the point of claim and offered a "
            "straightforward opt-out.",
        ),
        _theme(
            "P3-05",
            "People missed by benefit-based matching",
            "Many fuel-poor households are not on benefits, so data matching alone would "
            "miss them.",
            "eligibility, not on benefits, missed, prepayment, tenants, insulation, threshold",
            "neutral",
            "Pensioners who have never claimed anything may be the coldest of all.",
            "Councils and health visitors know who is struggling, and that knowledge should"
            " be used too.",
            "!My neighbours are on a low wage with three children and get no help with "
            "energy at all.",
            "Many people in fuel poverty are not on benefits at all, so they would still be "
            "missed.",
            "Data matching will only be as good as the eligibility criteria behind it.",
            "People on prepayment meters and private tenants often miss out and must be included.",
            "Households just above the benefit threshold struggle too.",
            "Information on poorly insulated homes would find people that benefits data misses.",
            "!I work part time and get no benefits, but I still cannot afford to heat my "
            "home properly.",
            "@Benefit receipt is an imperfect proxy for fuel poverty; a large share of "
            "fuel-poor households receive no means-tested benefits.",
        ),
        _theme(
            "P3-06",
            "Data security",
            "Concern that benefit data held by many suppliers could leak or be hacked.",
            "security, breach, hacked, leak, safe, criminals",
            "oppose",
            "!Every time a company loses data I get another letter saying sorry.",
            "A list of who is on benefits is exactly the kind of thing that gets stolen.",
            "Suppliers should delete the data as soon as the discount has been applied.",
            "{worry} that benefit details held by {bodies} could be hacked.",
            "Energy companies have had data breaches before, so this is a real risk.",
            "Lists of vulnerable people on benefits would be a goldmine for scammers.",
            "The data should be encrypted and deleted as soon as the discount is applied.",
            "!I already get scam calls pretending to be from my energy company.",
            "Passing lists between dozens of suppliers multiplies the chances of a leak.",
            "@Any transfer should use a secure matching service so that suppliers never "
            "hold bulk benefit data.",
        ),
        _theme(
            "P3-07",
            "Cost and who pays",
            "Who funds the discounts: bill payers or general taxation, and is it value for money.",
            "cost, bills, pays, funding, levy, taxation, value for money",
            "neutral",
            "!I am not well off either, so I do not see why my bill should go up to pay for this.",
            "It should be paid for fairly through taxes, not loaded onto bills.",
            "The scheme needs a clear budget before it is expanded.",
            "Who pays for the discounts? If it is added to everyone's bills, that is unfair.",
            "The cost of the scheme should come from general taxation, not energy bills.",
            "{think} the admin savings from automatic matching would outweigh the cost.",
            "Higher take-up will mean a bigger bill, and that needs to be planned for.",
            "!My bills are already high enough without paying for other people's discounts.",
            "People who are only just managing end up paying for the scheme through their "
            "own bills.",
            "@The levy-funded model is regressive and should be reviewed alongside any "
            "extension of data matching.",
        ),
    ),
    questions=(
        _stance_q("p3_q1", "7"),
        _open_q("p3_q2", "8a", _EXPLAIN),
        _open_q(
            "p3_q3",
            "8b",
            "How could help also reach households in fuel poverty who do not receive benefits?",
        ),
    ),
    stance_key="p3_q1",
    explain_key="p3_q2",
    extra=(("p3_q3", ("P3-05", "P3-01", "P3-07", "P3-04")),),
    multi_key=None,
    base=(0.55, 0.15, 0.20, 0.10),
    interest=0.20,
)

_P4 = _ProposalSpec(
    code="P4",
    title="Debt and fraud",
    summary=(
        "Allow public bodies to share data to find and reduce fraud and error against the "
        "public sector, and to manage debt owed to government more fairly, for example by "
        "looking at a person's debts to several public bodies together. New uses would run "
        "as time-limited pilots and be reviewed before being extended."
    ),
    context={
        "data": (
            "people's financial information",
            "debt data",
            "benefit and tax records",
            "personal data",
        ),
        "bodies": ("departments", "tax, benefits and council services", "public bodies"),
        "people": (
            "people in debt",
            "benefit claimants",
            "people on low incomes",
            "those who owe money to government",
        ),
        "scheme": ("this proposal", "the proposal", "the data matching", "this plan"),
    },
    themes=(
        _theme(
            "P4-01",
            "Saving public money and reducing fraud",
            "Data sharing would catch fraud and error and protect taxpayers' money.",
            "fraud, taxpayer, money, save, error, overpayment, cheating",
            "support",
            "!It is not fair on honest people like me when others cheat and get away with it.",
            "Stopping overpayments early saves claimants from large debts later on.",
            "Public money should go to those who are entitled to it.",
            "Fraud takes money away from people who genuinely need it.",
            "Taxpayers deserve to know that {gov} is doing everything it can to stop fraud.",
            "Sharing data could catch errors before overpayments build up.",
            "{think} it is right to use the data {gov} already has to stop people cheating "
            "the system.",
            "!I work hard and pay my taxes, and it annoys me when I hear about benefit fraud.",
            "Large sums are lost every year to fraud and error, so this is worth doing.",
            "@Better data matching would allow earlier detection of error, which is in the "
            "interests of both claimants and the public purse.",
        ),
        _theme(
            "P4-02",
            "Fair treatment of people in debt",
            "Debt collection should be affordable, coordinated and sensitive to hardship.",
            "affordable, fair, repayment plan, hardship, debt advice, bailiffs, mental health",
            "conditional",
            "!When I owed money to three different departments, none of them talked to each other.",
            "Collecting debts should never leave someone unable to pay for food or heating.",
            "A breathing space scheme should apply to government debts as well.",
            "People in debt need help and affordable repayment plans, not aggressive collection.",
            "Government should look at someone's whole financial situation before taking "
            "money from them.",
            "Debt collection must take account of hardship and mental health.",
            "!When I fell behind on council tax the bailiffs were sent round before anyone "
            "asked what was wrong.",
            "If the data is used to offer debt advice and breathing space, it could do good.",
            "A single, fair repayment plan across all government debts would be a real "
            "improvement.",
            "@Our advisers see clients pushed into deeper hardship by several public "
            "creditors acting independently.",
        ),
        _theme(
            "P4-03",
            "Presumption of guilt and targeting of claimants",
            "The proposal treats claimants and poorer people as suspects.",
            "suspect, guilt, claimants, targeted, innocent, poor, witch hunt",
            "oppose",
            "!I have never cheated anyone, yet I feel treated like a criminal every time I "
            "deal with them.",
            "Poorer people already face more checks than anyone else.",
            "Treating claimants as fraudsters by default is insulting and unfair.",
            "This treats everyone on benefits as a suspect.",
            "Innocent people will be caught up in fishing expeditions.",
            "{worry} that {scheme} is aimed at the poor while tax avoidance by the wealthy "
            "is ignored.",
            "It turns the presumption of innocence on its head.",
            "!As a disabled claimant I already feel like I am constantly under suspicion.",
            "Fraud is a small part of the problem; most overpayments come from official error.",
            "@Bulk data matching of claimants risks stigmatising entire groups for the "
            "actions of a very small minority.",
        ),
        _theme(
            "P4-04",
            "Inaccurate data and wrongful decisions",
            "Errors and false matches would penalise people for mistakes that are not theirs.",
            "errors, wrong, mistakes, false match, inaccurate, automated",
            "oppose",
            "!My payments were stopped because of a computer error and it took eight weeks "
            "to sort out.",
            "A wrong match can take months to put right, and the damage is done in the meantime.",
            "Nobody should lose money because two databases spell a name differently.",
            "Government data is often wrong, and people will be penalised for mistakes that "
            "are not theirs.",
            "Matching records from different systems produces false matches.",
            "!I was once told I owed money that turned out to belong to someone with the "
            "same name.",
            "Automated decisions based on bad data could push people into poverty.",
            "Records should be checked by a person before anyone's money is stopped.",
            "Out-of-date addresses and misspelt names are common in {data}.",
            "@Data quality across departmental systems is variable, and false positives "
            "must be expected and planned for.",
        ),
        _theme(
            "P4-05",
            "Oversight, review and appeal",
            "Independent review of the pilots, published results and a right to challenge.",
            "oversight, appeal, review, independent, pilot, evaluation, sunset",
            "conditional",
            "!I would want to know if my records had been looked at and why.",
            "Parliament should see an annual report on how the powers have been used.",
            "Independent auditors should check a sample of cases every year.",
            "There should be an independent review of how the powers are used.",
            "People should be told when their data has been used against them and be able "
            "to appeal.",
            "Pilots should be properly evaluated and the results published before anything "
            "is rolled out.",
            "{think} this needs a sunset clause so Parliament has to look at it again.",
            "Every data match should be logged and open to inspection.",
            "There {must} be a quick way to challenge a decision before any action is taken.",
            "@We would expect independent evaluation of each pilot, with clear success "
            "criteria set in advance.",
        ),
        _theme(
            "P4-06",
            "Function creep",
            "Powers introduced for fraud and debt will be widened to other purposes.",
            "creep, expand, future, powers, scope, widen",
            "oppose",
            "!I do not believe it will stop at debt and fraud.",
            "What starts with fraud could end up covering parking fines and library fees.",
            "Every new power is sold as limited and then quietly extended.",
            "Powers brought in for one purpose always end up being used for others.",
            "Today it is fraud; tomorrow it could be anything.",
            "{worry} that the definition of debt and fraud will keep widening.",
            "Once the infrastructure is built, future governments will find new uses for it.",
            "The limits in the proposal are vague and could easily be stretched.",
            "!I have seen too many temporary measures become permanent to believe the "
            "promises in this one.",
            "@The purposes in the draft are drawn broadly enough to permit substantial "
            "function creep.",
        ),
    ),
    questions=(_stance_q("p4_q1", "9"), _open_q("p4_q2", "10", _EXPLAIN)),
    stance_key="p4_q1",
    explain_key="p4_q2",
    extra=(),
    multi_key=None,
    base=(0.30, 0.40, 0.20, 0.10),
    interest=0.22,
)

_P5 = _ProposalSpec(
    code="P5",
    title="Research and statistics",
    summary=(
        "Allow de-identified data held by public bodies to be shared with accredited "
        "researchers, in secure settings, for research in the public interest; and give the "
        "national statistics office access to administrative data so that official "
        "statistics can be more timely and accurate."
    ),
    context={
        "data": (
            "administrative data",
            "government data",
            "de-identified records",
            "public sector data",
        ),
        "bodies": ("researchers", "universities", "accredited researchers"),
        "people": ("researchers", "policy makers"),
        "scheme": (
            "this proposal",
            "the research proposal",
            "opening up data for research",
            "the proposal",
        ),
    },
    themes=(
        _theme(
            "P5-01",
            "Public benefit of research",
            "Research on public data leads to better evidence and better policy.",
            "research, evidence, policy, public good, understand, what works",
            "support",
            "!My daughter's rare condition was only understood because researchers could "
            "study records from many families.",
            "Understanding what works saves money and improves lives.",
            "Well-run research can show where public money is being wasted.",
            "Good research needs good data, and this would lead to better policy.",
            "{data} could reveal a great deal about what actually works.",
            "It is a waste to collect all this information and never learn from it.",
            "!As a nurse I have seen how research based on real records improves care.",
            "Decisions should be based on evidence rather than guesswork.",
            "Research for the public good is a legitimate and valuable use of data.",
            "@Linked administrative data allows questions to be answered that surveys "
            "simply cannot reach.",
        ),
        _theme(
            "P5-02",
            "Better and timelier statistics",
            "Administrative sources would make official statistics faster, cheaper and more "
            "accurate.",
            "statistics, census, timely, surveys, population, accurate, planning",
            "support",
            "Better statistics mean better decisions about schools, hospitals and housing.",
            "Official figures are often years out of date by the time they are published.",
            "!I would much rather my records were used than be asked to fill in another "
            "census form.",
            "Using existing records could make official statistics more timely and accurate.",
            "This could reduce the need for an expensive census every ten years.",
            "Fewer surveys would mean less burden on households and businesses.",
            "{think} statistics based on {data} would be more reliable than small samples.",
            "Up-to-date population figures would help councils plan schools and GP surgeries.",
            "!I am tired of being asked to fill in surveys when the answers are already on "
            "record somewhere.",
            "@Access to administrative sources is essential if official statistics are to "
            "keep pace with a changing economy.",
        ),
        _theme(
            "P5-03",
            "Re-identification risk",
            "De-identified data can be traced back to people, especially once linked.",
            "anonymous, identified, re-identification, de-identified, linked, small numbers",
            "conditional",
            "!With my postcode, age and job, anyone could work out who I am.",
            "Combining several datasets can reveal far more than any one of them alone.",
            "There must be penalties for anyone who tries to re-identify people.",
            "So-called anonymous data can often be traced back to individuals.",
            "{worry} that linking datasets makes it easy to identify people.",
            "Data should be properly de-identified before any researcher sees it.",
            "Small areas and rare conditions make people easy to spot even without names.",
            "!I live in a small village, so even basic details would make me identifiable.",
            "Removing names is not the same as making data anonymous.",
            "@Pseudonymisation alone is insufficient; disclosure control must be applied to "
            "outputs as well as inputs.",
        ),
        _theme(
            "P5-04",
            "Accredited researchers and secure access",
            "Access only for vetted researchers, approved projects and secure settings.",
            "accredited, secure, safe setting, vetted, approved, trained",
            "support",
            "Researchers who break the rules should lose their access for good.",
            "Access should be granted project by project, not as a blanket permission.",
            "Secure settings mean the data never leaves controlled conditions.",
            "Only accredited researchers working in secure settings should have access.",
            "Researchers should be vetted and trained, and projects approved in advance.",
            "Data should stay in a secure environment rather than being sent out.",
            "{think} the secure research centre model works well and should be used here.",
            "Outputs should be checked before they leave the secure environment.",
            "!I would be comfortable with this as long as only approved researchers can see "
            "the data.",
            "@Controlled access through accredited secure environments is a proven model "
            "for sensitive data.",
        ),
        _theme(
            "P5-05",
            "Commercial use of data",
            "Objection to data being sold to or exploited by private companies.",
            "commercial, sell, profit, companies, insurers, marketing",
            "oppose",
            "!I do not want my medical or benefit history ending up in a company's "
            "marketing database.",
            "Public data should benefit the public, not private shareholders.",
            "Selling access would destroy trust in the whole system.",
            "Data should never be sold to private companies.",
            "{worry} that {data} will end up with insurers and marketing firms.",
            "Research for profit is not the same as research for the public good.",
            "!I would be happy to help academic research but not a company trying to make "
            "money from me.",
            "If companies benefit, the public should get something back.",
            "There is nothing to stop a private firm calling itself a research organisation.",
            "@Clear criteria are needed to distinguish public-interest research from "
            "commercial exploitation.",
        ),
        _theme(
            "P5-06",
            "Transparency about research use",
            "The public should be able to see who uses the data, for what and with what results.",
            "transparency, register, published, open, know, results",
            "neutral",
            "Every project should publish its findings, whatever they show.",
            "A plain-English summary of each study would help people understand the benefit.",
            "!I would be more comfortable if I could see what my data was used for.",
            "There should be a public register of every research project using {data}.",
            "People have a right to know who is using their data and why.",
            "Results should be published so the public can see the benefit.",
            "{think} openness about how data is used would build trust.",
            "The list of approved researchers and their projects should be published.",
            "!I would like to be able to look up which studies have used my records.",
            "@A publicly searchable register of approved projects, with lay summaries, "
            "should be a condition of access.",
        ),
    ),
    questions=(
        _stance_q("p5_q1", "11"),
        _open_q("p5_q2", "12a", _EXPLAIN),
        _open_q(
            "p5_q3",
            "12b",
            "What would make the use of data for research and statistics open and trustworthy?",
        ),
    ),
    stance_key="p5_q1",
    explain_key="p5_q2",
    extra=(("p5_q3", ("P5-06", "P5-04", "P5-03", "P5-05")),),
    multi_key=None,
    base=(0.45, 0.20, 0.25, 0.10),
    interest=0.13,
)

_MAIN_SPECS: tuple[_ProposalSpec, ...] = (_P1, _P2, _P3, _P4, _P5)

_R1 = _ProposalSpec(
    code="R1",
    title="A public register of data sharing agreements",
    summary=(
        "Require every public body to publish its data sharing agreements in one central, "
        "searchable register, with a plain-English summary of what is shared, with whom "
        "and why."
    ),
    context={
        "data": ("data sharing agreements", "the agreements"),
        "bodies": ("public bodies", "councils and departments"),
        "people": ("members of the public", "citizens"),
        "scheme": ("a public register", "the register", "this proposal"),
    },
    themes=(
        _theme(
            "R1-01",
            "Transparency builds trust",
            "Publishing agreements lets people see what happens to their data.",
            "transparency, trust, see, open, accountable",
            "support",
            "People have a right to see how their data is being shared.",
            "{scheme} would make {bodies} accountable for what they share.",
            "Openness is the best way to build public trust in data sharing.",
            "{think} publishing the agreements is overdue.",
            "!I would use a register like this to check who holds my information.",
            "Sunlight is the best disinfectant: if an agreement cannot be published, it "
            "should not exist.",
            "@A single register would let civil society scrutinise sharing that is currently "
            "invisible.",
        ),
        _theme(
            "R1-02",
            "Burden and cost for public bodies",
            "Maintaining the register would cost time and money that small bodies lack.",
            "burden, cost, time, resources, bureaucracy, small bodies",
            "oppose",
            "This sounds like more bureaucracy for already stretched staff.",
            "Small parish and town councils do not have the resources to do this.",
            "The money would be better spent on front-line services.",
            "{worry} that the register will cost a lot and be used by very few people.",
            "Keeping hundreds of agreements up to date is a big job.",
            "@Publication duties should be proportionate to the size of the organisation "
            "and the sensitivity of the data.",
        ),
        _theme(
            "R1-03",
            "Completeness and ease of search",
            "The register is only useful if it is complete, current and searchable.",
            "complete, up to date, searchable, easy to use, all agreements",
            "conditional",
            "A register is only useful if every agreement is on it.",
            "It must be easy to search by organisation and type of data.",
            "Out-of-date entries would be worse than no register at all.",
            "There should be penalties for bodies that fail to publish.",
            "{think} the register should show when each agreement was last reviewed.",
            "@Registration should be a legal precondition of any sharing taking place.",
        ),
        _theme(
            "R1-04",
            "Security of published details",
            "Too much technical detail could help attackers.",
            "security, technical detail, attackers, risk, redact",
            "conditional",
            "Publishing technical details could help hackers target systems.",
            "Security arrangements should be summarised, not published in full.",
            "{worry} that criminals would use the register to find valuable datasets.",
            "Some law enforcement sharing will have to stay confidential.",
            "There needs to be a sensible balance between openness and security.",
            "@Security-sensitive annexes should be withheld while the existence of the "
            "agreement is still disclosed.",
        ),
        _theme(
            "R1-05",
            "Plain-English summaries",
            "Agreements should be explained in language anyone can understand.",
            "plain english, summary, understand, jargon, accessible",
            "neutral",
            "Legal agreements are unreadable, so each one needs a plain-English summary.",
            "The register should be written for the public, not for lawyers.",
            "Summaries should say what is shared, with whom, why and for how long.",
            "!I tried to read a data sharing agreement once and gave up after two pages.",
            "Easy-read and Welsh language versions should be available.",
            "@Each entry should include a short summary written and tested with members of "
            "the public.",
        ),
    ),
    questions=(
        _stance_q("r1_q1", "1"),
        _open_q("r1_q2", "2", _EXPLAIN),
    ),
    stance_key="r1_q1",
    explain_key="r1_q2",
    extra=(),
    multi_key=None,
    base=(0.60, 0.15, 0.15, 0.10),
    interest=1.0,
)

# ---------------------------------------------------------------------------
# Shared vocabulary
# ---------------------------------------------------------------------------

_VOCAB: dict[str, tuple[str, ...]] = {
    "gov": ("the government", "government", "the state", "Whitehall", "the civil service"),
    "must": ("must", "should", "needs to"),
}
_PERSONA_VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "individual": {
        "think": (
            "I think",
            "I believe",
            "In my view",
            "Personally I feel",
            "To my mind",
            "It seems to me",
        ),
        "worry": ("I worry", "I am concerned", "My concern is", "I fear", "It worries me"),
    },
    "organisation": {
        "think": ("We think", "We believe", "In our view", "We consider", "Our view is that"),
        "worry": ("We are concerned", "Our concern is", "We are worried", "There is a risk"),
    },
}
# "needs to" after a plural subject reads badly: fix the few cases it can produce.
_GRAMMAR_FIXES = (("People needs to", "People need to"),)

_OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "individual": {
        "support": (
            "I support this proposal.",
            "Yes, I agree with this.",
            "I am broadly in favour.",
            "This is a good idea.",
            "I agree in principle.",
            "Yes.",
            "Definitely agree.",
        ),
        "oppose": (
            "I strongly disagree with this proposal.",
            "No.",
            "I am against this.",
            "I do not agree with this at all.",
            "This is a bad idea.",
            "Absolutely not.",
        ),
        "mixed": (
            "I can see both sides of this.",
            "I have mixed feelings about this.",
            "In principle yes, but I have reservations.",
            "It depends on how it is done.",
            "Partly agree, partly disagree.",
        ),
        "neutral": (
            "I do not have a strong view either way.",
            "I am not sure about this one.",
            "Not sure.",
            "I don't know enough to say.",
        ),
    },
    "organisation": {
        "support": (
            "{org} welcomes this proposal.",
            "We support this proposal.",
            "We broadly welcome the proposal.",
        ),
        "oppose": (
            "{org} does not support this proposal as drafted.",
            "We oppose this proposal.",
            "We cannot support the proposal in its current form.",
        ),
        "mixed": (
            "We support the aims of the proposal but have significant concerns.",
            "{org} welcomes the intention behind the proposal, with reservations.",
        ),
        "neutral": (
            "We do not take a position on this proposal, but offer the following observations.",
            "{org} has no settled view on this proposal.",
        ),
    },
}
_STANCE_ONLY: dict[str, tuple[str, ...]] = {
    "support": ("I agree.", "Yes, good idea.", "Fine by me.", "Sounds sensible.", "Agree"),
    "oppose": ("I disagree.", "No way.", "Totally against it.", "Disagree", "Just no."),
    "mixed": ("Yes and no.", "Some good points, some bad."),
    "neutral": (
        "Not sure, I don't know enough about it.",
        "No strong feelings.",
        "Don't know.",
    ),
}
_NO_COMMENT = (
    "No comment.",
    "N/A",
    "None",
    "-",
    "Nothing to add.",
    "No comment",
    "n/a",
    "See above.",
    "As above.",
)
_CLOSERS: dict[str, tuple[str, ...]] = {
    "individual": (
        "Thank you.",
        "Thanks for asking.",
        "Please think again.",
        "That's all I have to say.",
        "Thank you for the chance to comment.",
    ),
    "organisation": (
        "We would be happy to discuss these points further.",
        "We look forward to the government's response.",
        "We would welcome continued involvement as the proposal develops.",
    ),
}
_HEDGES: dict[str, tuple[str, ...]] = {
    "individual": (
        "Honestly, ",
        "To be fair, ",
        "Frankly, ",
        "On balance, ",
        "In all honesty, ",
        "Let's be clear: ",
    ),
    "organisation": ("In our experience, ", "On balance, ", "Importantly, "),
}
_ASIDES = (
    "I read about this in the local paper.",
    "I have read the consultation document twice.",
    "This affects everyone, not just people like me.",
    "I am a retired teacher.",
    "I have lived in the same town all my life.",
    "My husband and I discussed this at some length.",
    "I am answering as a parent of two teenagers.",
    "The consultation document was hard to follow in places.",
    "I rarely respond to things like this.",
    "I filled this in on my phone, so apologies for any mistakes.",
)
_CONTRAST = ("However, ", "But ", "On the other hand, ", "That said, ", "Even so, ")
_ADDITIVE = ("Also, ", "And ", "In addition, ", "What is more, ")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "a lot of": ("a great deal of", "plenty of"),
    "a great deal": ("a lot", "much"),
    "very": ("extremely", "really", "deeply"),
    "serious": ("grave", "major", "significant"),
    "simple": ("easy", "straightforward"),
    "far more": ("much more", "a lot more"),
    "sensible": ("reasonable", "logical", "practical"),
    "properly": ("correctly", "carefully"),
    "officials": ("civil servants", "bureaucrats", "public servants"),
    "awful": ("horrible", "dreadful", "terrible"),
    "big": ("large", "major"),
    "real": ("genuine", "serious"),
    "earlier": ("sooner", "at an earlier stage"),
    "rules": ("regulations", "controls"),
    "dozens of": ("lots of", "countless", "a dozen or more"),
    "make sure": ("ensure", "check"),
    "clear": ("explicit", "firm"),
    "quicker": ("faster", "more efficient"),
    "strong": ("robust", "tough", "effective"),
    "obvious": ("clear", "tempting"),
    "distress": ("upset", "anguish"),
    "struggling": ("finding things hard", "in difficulty"),
    "entitled to": ("eligible for", "due"),
    "straight away": ("immediately", "at once"),
}
_SYNONYM_PATTERN = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _SYNONYMS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)

_MISSPELLINGS: dict[str, str] = {
    "government": "goverment",
    "receive": "recieve",
    "separate": "seperate",
    "definitely": "definately",
    "privacy": "privicy",
    "necessary": "neccessary",
    "information": "infomation",
    "believe": "beleive",
    "because": "becuase",
    "really": "realy",
    "their": "there",
    "which": "wich",
    "business": "buisness",
    "benefits": "benifits",
    "council": "councel",
    "whether": "wether",
    "affect": "effect",
}

# ---------------------------------------------------------------------------
# People and organisations
# ---------------------------------------------------------------------------

_FIRST_NAMES = (
    "Aisha", "Alan", "Amelia", "Amir", "Angela", "Ben", "Bethan", "Carl", "Catherine",
    "Chloe", "Claire", "Colin", "Daniel", "Deborah", "Declan", "Eileen", "Emma", "Fatima",
    "Fiona", "Gareth", "Grace", "Hannah", "Harpreet", "Ian", "Imran", "Isla", "Jack",
    "Jane", "Joanne", "Kamal", "Karen", "Kevin", "Laura", "Leon", "Lucy", "Maria", "Mark",
    "Megan", "Mohammed", "Niamh", "Nicola", "Oliver", "Patrick", "Priya", "Rachel", "Rhys",
    "Robert", "Ruth", "Sam", "Sandra", "Sean", "Siobhan", "Sophie", "Stuart", "Tariq",
    "Tom", "Wendy", "Yusuf", "Zoe", "Graham",
)  # fmt: skip
_SURNAMES = (
    "Ahmed", "Atkinson", "Begum", "Bell", "Brennan", "Campbell", "Chaudhry", "Clarke",
    "Collins", "Davies", "Doherty", "Edwards", "Evans", "Fraser", "Gallagher", "Green",
    "Hall", "Harris", "Hughes", "Hussain", "Jenkins", "Johnson", "Kaur", "Kelly", "Khan",
    "Lewis", "Lloyd", "McDonald", "McLaughlin", "Martin", "Mitchell", "Morgan", "Murray",
    "Nowak", "Okafor", "Owen", "Patel", "Price", "Quinn", "Reid", "Roberts", "Robertson",
    "Scott", "Shah", "Singh", "Smith", "Stewart", "Taylor", "Thomas", "Thompson", "Turner",
    "Walker", "Watson", "Williams", "Wilson", "Wood", "Wright", "Young", "Adeyemi", "Baker",
)  # fmt: skip
_STREETS = (
    "Station Road", "Church Lane", "Victoria Street", "Mill Lane", "Park Avenue",
    "Queen Street", "Orchard Close", "Manor Way", "Chapel Row", "High Street",
)  # fmt: skip

# region -> (population weight, towns, postcode areas)
_REGIONS: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("North East", 4.0, ("Newcastle", "Sunderland", "Durham"), ("NE", "SR", "DH")),
    ("North West", 11.0, ("Manchester", "Liverpool", "Preston"), ("M", "L", "PR")),
    ("Yorkshire and the Humber", 8.0, ("Leeds", "Sheffield", "York"), ("LS", "S", "YO")),
    ("East Midlands", 7.0, ("Nottingham", "Leicester", "Derby"), ("NG", "LE", "DE")),
    ("West Midlands", 9.0, ("Birmingham", "Coventry", "Wolverhampton"), ("B", "CV", "WV")),
    ("East of England", 9.0, ("Cambridge", "Norwich", "Ipswich"), ("CB", "NR", "IP")),
    ("London", 13.0, ("Hackney", "Croydon", "Camden"), ("E", "CR", "NW")),
    ("South East", 14.0, ("Brighton", "Reading", "Oxford"), ("BN", "RG", "OX")),
    ("South West", 8.5, ("Bristol", "Exeter", "Plymouth"), ("BS", "EX", "PL")),
    ("Scotland", 8.0, ("Edinburgh", "Glasgow", "Aberdeen"), ("EH", "G", "AB")),
    ("Wales", 5.0, ("Cardiff", "Swansea", "Bangor"), ("CF", "SA", "LL")),
    ("Northern Ireland", 3.0, ("Belfast", "Lisburn", "Newry"), ("BT",)),
)
_REGION_INDEX = {r[0]: r for r in _REGIONS}
_REGION_PHRASE = {
    r[0]: (f"the {r[0]}" if r[0].startswith(("North ", "South ", "East ", "West ")) else r[0])
    for r in _REGIONS
}

# name, type, disposition, proposals of main interest (1-based)
_ORGANISATIONS: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("Families Together Network", "charity", "pragmatic", (1, 4)),
    ("Warm Homes Alliance", "charity", "supportive", (3,)),
    ("Privacy First Trust", "charity", "sceptic", (1, 4, 5)),
    ("Carers Voice", "charity", "pragmatic", (1, 3)),
    ("Debt Relief Advice Centre", "charity", "pragmatic", (4,)),
    ("Older People's Action Group", "charity", "supportive", (3, 2)),
    ("Open Records Foundation", "charity", "sceptic", (5, 1)),
    ("Children's Futures Trust", "charity", "supportive", (1,)),
    ("Disability Rights Forum", "charity", "sceptic", (4, 1)),
    ("Bereavement Support Network", "charity", "supportive", (2,)),
    ("Digital Liberty Trust", "charity", "sceptic", (1, 2, 4, 5)),
    ("Money Advice Collective", "charity", "pragmatic", (4, 3)),
    ("Tenants' Energy Project", "charity", "supportive", (3,)),
    ("Community Law Centre Eastmere", "charity", "sceptic", (4, 1)),
    ("Adoption Support Circle", "charity", "sceptic", (2,)),
    ("Domestic Abuse Safety Network", "charity", "sceptic", (2, 1)),
    ("Rural Fuel Action", "charity", "supportive", (3,)),
    ("Migrant Families Advice Service", "charity", "sceptic", (1, 4)),
    ("Young Carers Link", "charity", "pragmatic", (1,)),
    ("Patients for Research", "charity", "supportive", (5,)),
    ("Fair Collections Campaign", "charity", "sceptic", (4,)),
    ("Grandparents' Advice Line", "charity", "pragmatic", (2, 3)),
    ("Northwick Energy Ltd", "business", "supportive", (3,)),
    ("Brightwatt Energy", "business", "pragmatic", (3,)),
    ("Kestrel Data Analytics Ltd", "business", "supportive", (5, 1)),
    ("Ledgerline Collections Ltd", "business", "supportive", (4,)),
    ("Civic Software Ltd", "business", "supportive", (1, 2)),
    ("Meridian Credit Services", "business", "pragmatic", (4,)),
    ("Heatwise Home Insulation", "business", "supportive", (3,)),
    ("Anvil Identity Checks Ltd", "business", "pragmatic", (2, 4)),
    ("University of Eastmere, School of Social Policy", "academic", "pragmatic", (5, 1)),
    ("Calderholt University Centre for Data Ethics", "academic", "sceptic", (5, 1, 4)),
    ("Institute for Population Research", "academic", "supportive", (5, 2)),
    ("Greyholt College Statistics Unit", "academic", "supportive", (5,)),
    ("Fennick University Energy Policy Group", "academic", "pragmatic", (3, 5)),
    ("Kestlebury Institute of Health Data", "academic", "supportive", (5, 2)),
    ("Lowmarsh Law School Information Rights Clinic", "academic", "sceptic", (4, 1, 5)),
    ("Eastmere Community Health NHS Trust", "public body", "supportive", (1, 2, 5)),
    ("Kestlebury Fire and Rescue Service", "public body", "supportive", (1, 3)),
    ("Northern Housing Board", "public body", "pragmatic", (1, 3, 4)),
    ("Valuation and Records Agency", "public body", "supportive", (2, 4)),
    ("Regional Registration Service (North)", "public body", "supportive", (2,)),
    ("Office of the Families Commissioner", "public body", "pragmatic", (1,)),
    ("National Energy Efficiency Agency", "public body", "supportive", (3,)),
    ("Public Data Standards Board", "public body", "pragmatic", (5, 2)),
    ("Saltmere Clinical Commissioning Board", "public body", "supportive", (1, 5)),
    ("Independent Benefits Review Panel", "public body", "pragmatic", (4,)),
)
_COUNCIL_PLACES = (
    "Ashworth", "Brackenmere", "Calderholt", "Dunmarsh", "Eastmere", "Fennick",
    "Greyholt", "Hollinsworth", "Kestlebury", "Lowmarsh", "Northwick", "Pennford",
    "Quenby", "Ravensholt", "Saltmere", "Thistlebury", "Upwood", "Wyvernham",
)  # fmt: skip
_COUNCIL_KINDS = ("City Council", "Borough Council", "County Council", "District Council")
_ORG_TYPE_WEIGHTS = (
    ("charity", 0.35),
    ("local authority", 0.25),
    ("business", 0.12),
    ("academic", 0.13),
    ("public body", 0.15),
)
_ORG_DESCRIPTIONS = {
    "charity": "a charity",
    "local authority": "a local authority",
    "business": "a company",
    "academic": "a research group",
    "public body": "a public body",
}
_ROLES = (
    "Policy Officer",
    "Head of Policy",
    "Data Protection Officer",
    "Chief Executive",
    "Research Director",
    "Information Governance Manager",
)

# disposition -> stance multipliers (support, oppose, mixed, neutral)
_DISPOSITION_FACTORS: dict[str, tuple[float, float, float, float]] = {
    "sceptic": (0.25, 3.0, 1.0, 0.6),
    "pragmatic": (1.0, 0.7, 1.6, 1.2),
    "supportive": (3.0, 0.3, 0.8, 0.8),
}
_STANCES = ("support", "oppose", "mixed", "neutral")

# ---------------------------------------------------------------------------
# Generation helpers
# ---------------------------------------------------------------------------

_SLOT = re.compile(r"\{([a-z_]+)\}")
_WORD = re.compile(r"[A-Za-z]+")


def _weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


_KEEP_CAPITAL = ("I", "Whitehall", "Parliament", "NHS")


def _uncap(text: str) -> str:
    """Lower-case the first letter, unless it starts "I", an acronym or a proper noun."""
    first = text.split(" ", 1)[0].rstrip(",.;:")
    if not first or first in _KEEP_CAPITAL or (len(first) > 1 and first.isupper()):
        return text
    return text[0].lower() + text[1:]


def _fill(
    template: str,
    rng: random.Random,
    context: dict[str, tuple[str, ...]],
    persona: str,
    org: str | None,
) -> str:
    def sub(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot == "org":
            return org or "We"
        choices = context.get(slot) or _PERSONA_VOCAB[persona].get(slot) or _VOCAB.get(slot) or ()
        if not choices:
            raise KeyError(f"unknown template slot {slot!r} in {template!r}")
        return rng.choice(choices)

    text = _cap(_SLOT.sub(sub, template.lstrip("!@")))
    for wrong, right in _GRAMMAR_FIXES:
        text = text.replace(wrong, right)
    return text


def _vary(sentence: str, rng: random.Random) -> str:
    """Swap some words and phrases for near-synonyms (each occurrence with p = 0.3)."""

    def sub(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() >= 0.3:
            return word
        choice = rng.choice(_SYNONYMS[word.lower()])
        return _cap(choice) if word[0].isupper() else choice

    return _SYNONYM_PATTERN.sub(sub, sentence)


def _templates_for(theme: _ThemeSpec, persona: str) -> tuple[str, ...]:
    banned = "@" if persona == "individual" else "!"
    return tuple(t for t in theme.templates if not t.startswith(banned))


def _add_typos(text: str, rng: random.Random, count: int | None = None) -> str:
    for _ in range(count or rng.choice((1, 1, 2))):
        words = list(_WORD.finditer(text))
        known = [m for m in words if m.group(0).lower() in _MISSPELLINGS]
        if known and rng.random() < 0.6:
            m = rng.choice(known)
            wrong = _MISSPELLINGS[m.group(0).lower()]
            if m.group(0)[0].isupper():
                wrong = _cap(wrong)
        else:
            long_words = [m for m in words if len(m.group(0)) >= 5]
            if not long_words:
                continue
            m = rng.choice(long_words)
            w = m.group(0)
            i = rng.randrange(1, len(w) - 2)
            op = rng.choice(("swap", "drop", "double"))
            if op == "swap":
                wrong = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            elif op == "drop":
                wrong = w[:i] + w[i + 1 :]
            else:
                wrong = w[:i] + w[i] + w[i:]
        text = text[: m.start()] + wrong + text[m.end() :]
    return text


def _roughen(text: str, rng: random.Random) -> str:
    """Informal habits of some individuals: typos, no capitals, no final full stop."""
    if rng.random() < 0.16:
        text = _add_typos(text, rng)
    r = rng.random()
    if r < 0.04:
        text = text.lower()
    elif r < 0.10 and text.endswith("."):
        text = text[:-1]
    return text


@dataclass
class _Person:
    first: str
    last: str
    town: str
    postcode_area: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


class _Generator:
    """Holds the random stream and the bookkeeping for one consultation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._emails: set[str] = set()
        self._names: set[str] = set()

    # -- people --------------------------------------------------------------

    def region(self) -> str:
        return _weighted(self.rng, [(r[0], r[1]) for r in _REGIONS])

    def person(self, region: str) -> _Person:
        _, _, towns, areas = _REGION_INDEX[region]
        for _ in range(50):
            first, last = self.rng.choice(_FIRST_NAMES), self.rng.choice(_SURNAMES)
            if f"{first} {last}" not in self._names:
                break
        self._names.add(f"{first} {last}")
        return _Person(first, last, self.rng.choice(towns), self.rng.choice(areas))

    def email(self, person: _Person, domain: str | None = None) -> str:
        rng = self.rng
        first, last = person.first.lower(), person.last.lower()
        if domain is None:
            domain = rng.choice(("example.com", "example.org", "example.net"))
            local = rng.choice(
                (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}", f"{first}_{last}")
            )
        else:
            local = f"{first}.{last}"
        address = f"{local}@{domain}"
        n = 1
        while address in self._emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self._emails.add(address)
        return address

    def postcode(self, area: str) -> str:
        rng = self.rng
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return (
            f"{area}{rng.randint(1, 19)} {rng.randint(1, 9)}"
            f"{rng.choice(letters)}{rng.choice(letters)}"
        )

    def phone(self) -> str:
        rng = self.rng
        n = rng.randint(0, 999)
        return rng.choice(
            (
                f"07700 900{n:03d}",
                f"07700900{n:03d}",
                f"+44 7700 900{n:03d}",
                f"020 7946 0{n:03d}",
                f"(020) 7946 0{n:03d}",
            )
        )

    def ni_number(self) -> str:
        rng = self.rng
        digits = [f"{rng.randint(0, 99):02d}" for _ in range(3)]
        suffix = rng.choice("ABCD")
        if rng.random() < 0.7:
            return f"QQ {' '.join(digits)} {suffix}"
        return f"QQ{''.join(digits)}{suffix}"

    # -- text ----------------------------------------------------------------

    def stance_for(self, spec: _ProposalSpec, disposition: str) -> str:
        factors = _DISPOSITION_FACTORS[disposition]
        weights = [b * f for b, f in zip(spec.base, factors, strict=True)]
        return self.rng.choices(_STANCES, weights=weights)[0]

    def option_for(self, stance: str) -> str:
        """The option a respondent ticks for the stance they hold (7% tick another)."""
        rng = self.rng
        if stance == "mixed":
            option = rng.choices(STANCE_OPTIONS, weights=(0.35, 0.30, 0.35))[0]
        else:
            option = _OPTION_FOR[stance]
        if rng.random() < 0.07:
            option = rng.choice([o for o in STANCE_OPTIONS if o != option])
        return option

    def pick_themes(self, spec: _ProposalSpec, stance: str, k: int) -> list[_ThemeSpec]:
        rng = self.rng
        by_leaning: dict[str, list[_ThemeSpec]] = {}
        for t in spec.themes:
            by_leaning.setdefault(t.leaning, []).append(t)
        sup = by_leaning.get("support", [])
        opp = by_leaning.get("oppose", [])
        cond = by_leaning.get("conditional", [])
        neu = by_leaning.get("neutral", [])
        if stance == "support":
            first, rest = sup, [(sup, 0.6), (cond, 0.3), (neu, 0.1)]
        elif stance == "oppose":
            first, rest = opp, [(opp, 0.6), (cond, 0.35), (neu, 0.05)]
        elif stance == "mixed":
            first, rest = sup, [(opp, 0.55), (cond, 0.45)]
        else:
            first, rest = (neu or cond), [(cond, 0.5), (neu, 0.3), (sup, 0.1), (opp, 0.1)]
        chosen = [rng.choice(first)]
        guard = 0
        while len(chosen) < k and guard < 30:
            guard += 1
            pools = [(p, w) for p, w in rest if p]
            pool = rng.choices([p for p, _ in pools], weights=[w for _, w in pools])[0]
            if stance == "mixed" and len(chosen) == 1:
                pool = opp + cond
            candidate = rng.choice(pool)
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def sentences_for(
        self, spec: _ProposalSpec, theme: _ThemeSpec, persona: str, org: str | None, n: int
    ) -> list[str]:
        templates = list(_templates_for(theme, persona))
        picked = self.rng.sample(templates, min(n, len(templates)))
        return [_vary(_fill(t, self.rng, spec.context, persona, org), self.rng) for t in picked]

    def compose_explain(
        self, spec: _ProposalSpec, stance: str, persona: str, org: str | None, region: str
    ) -> tuple[str, tuple[str, ...]]:
        """Free text for a proposal's "please explain" question and the themes it uses."""
        rng = self.rng
        ind = persona == "individual"
        if ind and rng.random() < (0.25 if stance == "neutral" else 0.06):
            return rng.choice(_STANCE_ONLY[stance]), ()
        if ind:
            k = rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]
        else:
            k = rng.choices((2, 3, 4), weights=(0.3, 0.45, 0.25))[0]
        # Sentence budget for the whole answer (1-6), shared by framing and themed text.
        if ind:
            budget = rng.choices((1, 2, 3, 4, 5, 6), weights=(8, 18, 26, 24, 14, 10))[0]
        else:
            budget = rng.choices((4, 5, 6), weights=(0.3, 0.35, 0.35))[0]
        parts: list[str] = []
        if not ind and rng.random() < 0.6:
            desc = _ORG_DESCRIPTIONS.get(_org_type(org), "an organisation")
            parts.append(f"{org} is {desc} working in {_REGION_PHRASE.get(region, region)}.")
        if budget - len(parts) >= 2 and rng.random() < (0.45 if ind else 0.75):
            openers = [o for o in _OPENERS[persona][stance] if not (parts and "{org}" in o)]
            parts.append(rng.choice(openers).replace("{org}", org or "We"))
        closer = None
        if budget - len(parts) >= 3 and rng.random() < (0.08 if ind else 0.3):
            closer = rng.choice(_CLOSERS[persona])
        room = budget - len(parts) - (closer is not None)
        if stance == "mixed":  # room for both sides
            k, room = max(k, 2), max(room, 2)
        themes = self.pick_themes(spec, stance, min(k, room))
        counts = [1] * len(themes)
        for i in range(len(themes)):
            if sum(counts) < room and rng.random() < (0.2 if ind else 0.5):
                counts[i] += 1
        body: list[str] = []
        used: list[str] = []
        contrasted = False
        for i, (theme, n) in enumerate(zip(themes, counts, strict=True)):
            sentences = self.sentences_for(spec, theme, persona, org, n)
            if (
                i > 0
                and not contrasted
                and theme.leaning != themes[0].leaning
                and rng.random() < 0.6
            ):
                contrasted = True
                sentences[0] = rng.choice(_CONTRAST) + _uncap(sentences[0])
            elif i > 0 and rng.random() < 0.2:
                sentences[0] = rng.choice(_ADDITIVE) + _uncap(sentences[0])
            body.extend(sentences)
            used.append(theme.code)
        full = len(parts) + len(body) + (closer is not None) >= 6
        if ind and not full and rng.random() < 0.12:  # an aside that carries no theme
            body.insert(rng.randrange(len(body) + 1), rng.choice(_ASIDES))
        if rng.random() < 0.15 and not body[0].startswith(tuple(_CONTRAST + _ADDITIVE)):
            body[0] = rng.choice(_HEDGES[persona]) + _uncap(body[0])
        parts.extend(body)
        if closer:
            parts.append(closer)
        joiner = "\n\n" if (not ind and len(parts) > 4 and rng.random() < 0.5) else " "
        text = joiner.join(parts)
        if ind:
            text = _roughen(text, rng)
        return text, tuple(sorted(used))

    def compose_extra(
        self, spec: _ProposalSpec, pool: tuple[str, ...], persona: str, org: str | None
    ) -> tuple[str, tuple[str, ...]]:
        rng = self.rng
        themes = [t for t in spec.themes if t.code in pool]
        k = 1 if rng.random() < 0.7 else 2
        weights = [len(pool) - pool.index(t.code) for t in themes]
        chosen: list[_ThemeSpec] = []
        while len(chosen) < k:
            t = rng.choices(themes, weights=weights)[0]
            if t not in chosen:
                chosen.append(t)
        parts: list[str] = []
        for i, theme in enumerate(chosen):
            n = 2 if (persona == "organisation" and rng.random() < 0.5) else 1
            sentences = self.sentences_for(spec, theme, persona, org, n)
            if i > 0 and rng.random() < 0.3:
                sentences[0] = rng.choice(_ADDITIVE) + _uncap(sentences[0])
            parts.extend(sentences)
        text = " ".join(parts)
        if persona == "individual":
            text = _roughen(text, rng)
        return text, tuple(sorted(t.code for t in chosen))


_ORG_TYPES: dict[str, str] = {o[0]: o[1] for o in _ORGANISATIONS}


def _org_type(org: str | None) -> str:
    if org is None:
        return ""
    if org in _ORG_TYPES:
        return _ORG_TYPES[org]
    return "local authority" if org.endswith(_COUNCIL_KINDS) else ""


# ---------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------


def _individual_pii(
    gen: _Generator, person: _Person | None, email: str | None, topic: str
) -> tuple[list[str], list[str], list[str]]:
    """Sentences to put before / after an answer, and the personal data they contain."""
    rng = gen.rng
    kinds: list[tuple[str, float]] = [("phone", 2.0), ("postcode", 1.5), ("third", 0.8)]
    if person is not None:
        kinds += [("intro", 2.5), ("signoff", 3.0), ("address", 1.0)]
    if email is not None:
        kinds.append(("email", 2.0))
    if topic == "P4":
        kinds.append(("ni", 2.5))
    else:
        kinds.append(("ni", 0.3))
    n = 1 if rng.random() < 0.7 else 2
    chosen: list[str] = []
    while len(chosen) < min(n, len(kinds)):
        k = _weighted(rng, kinds)
        if k not in chosen:
            chosen.append(k)
    before: list[str] = []
    after: list[str] = []
    found: list[str] = []
    for kind in chosen:
        if kind == "intro" and person is not None:
            if rng.random() < 0.5:
                before.append(f"My name is {person.full} and I live in {person.town}.")
            else:
                before.append(f"I am {person.full}, writing from {person.town}.")
            found.append(person.full)
        elif kind == "signoff" and person is not None:
            style = rng.randrange(4)
            if style == 0:
                after.append(f"\n\nKind regards,\n{person.full}")
                found.append(person.full)
            elif style == 1:
                after.append(f"\n\nRegards, {person.full}")
                found.append(person.full)
            elif style == 2:
                after.append(f"\n\nThanks,\n{person.first}")
                found.append(person.first)
            else:
                after.append(f"\n\n{person.first} {person.last[0]}.")
                found.append(f"{person.first} {person.last[0]}.")
        elif kind == "phone":
            phone = gen.phone()
            after.append(
                rng.choice(
                    (
                        f"You can call me on {phone} if you want to discuss this.",
                        f"My number is {phone}.",
                        f"Ring me on {phone} if anything is unclear.",
                    )
                )
            )
            found.append(phone)
        elif kind == "email" and email is not None:
            after.append(
                rng.choice(
                    (
                        f"Please reply to {email}.",
                        f"I can be contacted at {email}.",
                        f"Email me at {email} if you need more.",
                    )
                )
            )
            found.append(email)
        elif kind == "postcode":
            area = person.postcode_area if person else rng.choice(("LS", "M", "BS", "G"))
            pc = gen.postcode(area)
            after.append(
                rng.choice(
                    (
                        f"My postcode is {pc}, if that helps.",
                        f"For reference I live in the {pc} area.",
                    )
                )
            )
            found.append(pc)
        elif kind == "address" and person is not None:
            number = rng.randint(1, 140)
            street = rng.choice(_STREETS)
            pc = gen.postcode(person.postcode_area)
            after.append(f"My address is {number} {street}, {person.town} {pc}.")
            found.extend((f"{number} {street}", pc))
        elif kind == "third":
            other = gen.person(gen.region())
            title = rng.choice(("Mrs", "Mr", "Ms", "Dr"))
            if rng.random() < 0.5:
                before.append(f"My neighbour, {title} {other.last}, is in the same position.")
                found.append(f"{title} {other.last}")
            else:
                after.append(f"My support worker, {other.full}, helped me write this.")
                found.append(other.full)
        elif kind == "ni":
            ni = gen.ni_number()
            after.append(
                rng.choice(
                    (
                        f"My National Insurance number is {ni}, so you can check my records.",
                        f"They have my NI number ({ni}) and still get it wrong.",
                    )
                )
            )
            found.append(ni)
    return before, after, found


def _attach(text: str, before: list[str], after: list[str]) -> str:
    out = " ".join([*before, text]) if before else text
    for extra in after:
        out = out + extra if extra.startswith("\n") else f"{out} {extra}"
    return out


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


@dataclass
class _Draft:
    """A response being built (mutable), frozen into a DemoResponse at the end."""

    answers: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    gold_themes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gold_stance: dict[str, str] = field(default_factory=dict)
    personal_data: dict[str, tuple[str, ...]] = field(default_factory=dict)


_Answers = dict[str, str | tuple[str, ...]]
_Codes = dict[str, tuple[str, ...]]


def _ordered(
    specs: Sequence[_ProposalSpec], draft: _Draft
) -> tuple[_Answers, _Codes, dict[str, str], _Codes]:
    """Dicts in question order, so that equality and printing are stable."""
    order = [q.key for s in specs for q in s.questions]
    return (
        {k: draft.answers[k] for k in order if k in draft.answers},
        {k: draft.gold_themes[k] for k in order if k in draft.gold_themes},
        {k: draft.gold_stance[k] for k in order if k in draft.gold_stance},
        {k: draft.personal_data[k] for k in order if k in draft.personal_data},
    )


def _multi_choice(gen: _Generator, disposition: str) -> tuple[str, ...]:
    rng = gen.rng
    weights = {
        "sceptic": (2.0, 1.5, 3.0, 4.0, 1.5),
        "pragmatic": (3.0, 2.5, 1.5, 2.0, 2.5),
        "supportive": (3.0, 2.0, 1.5, 0.8, 3.0),
    }[disposition]
    n = rng.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]
    picked: list[str] = []
    while len(picked) < n:
        option = rng.choices(SAFEGUARD_OPTIONS, weights=weights)[0]
        if option not in picked:
            picked.append(option)
    return tuple(o for o in SAFEGUARD_OPTIONS if o in picked)


def _respond(
    gen: _Generator,
    specs: Sequence[_ProposalSpec],
    respondent: DemoRespondent,
    person: _Person | None,
    disposition: str,
    written: Sequence[int],
    pii_rate: float,
) -> _Draft:
    """Answers of one (non-campaign) respondent; `written` are indexes into `specs`."""
    rng = gen.rng
    persona = respondent.kind
    org = respondent.organisation_name
    closed_questions = respondent.channel in ("web", "api")
    draft = _Draft()
    text_keys: list[tuple[str, str]] = []  # (question key, proposal code)
    for idx, spec in enumerate(specs):
        stance = gen.stance_for(spec, disposition)
        if idx in written:
            text, themes = gen.compose_explain(spec, stance, persona, org, respondent.region)
            draft.answers[spec.explain_key] = text
            draft.gold_themes[spec.explain_key] = themes
            draft.gold_stance[spec.stance_key] = stance
            text_keys.append((spec.explain_key, spec.code))
            extra_rate = 0.35 if persona == "individual" else 0.7
            for key, pool in spec.extra:
                if rng.random() < extra_rate:
                    text, themes = gen.compose_extra(spec, pool, persona, org)
                    draft.answers[key] = text
                    draft.gold_themes[key] = themes
                    text_keys.append((key, spec.code))
            if closed_questions:
                draft.answers[spec.stance_key] = gen.option_for(stance)
        elif closed_questions:
            if rng.random() < 0.35:
                option = STANCE_OPTIONS[2]  # forced to answer, no real view
            else:
                option = _OPTION_FOR[stance] if stance != "mixed" else STANCE_OPTIONS[2]
            draft.answers[spec.stance_key] = option
            draft.gold_stance[spec.stance_key] = STANCE_MAP[option]
            for key in [spec.explain_key, *(k for k, _ in spec.extra)]:
                if rng.random() < 0.04:
                    draft.answers[key] = rng.choice(_NO_COMMENT)
                    draft.gold_themes[key] = ()
        if closed_questions and spec.multi_key and rng.random() < 0.7:
            draft.answers[spec.multi_key] = _multi_choice(gen, disposition)

    # Personal data: letters are usually signed; some web answers carry details too.
    if text_keys:
        rate = pii_rate
        if respondent.channel == "post":
            rate = 0.7
        elif respondent.channel == "email":
            rate = 0.45
        if rng.random() < rate:
            if persona == "individual":
                key, code = rng.choice(text_keys)
                before, after, found = _individual_pii(gen, person, respondent.email, code)
            else:
                key, code = text_keys[-1]
                before, found = [], []
                if respondent.name and respondent.email:
                    phone = gen.phone()
                    after = [
                        f"\n\nFor further information please contact {respondent.name} on "
                        f"{phone} or at {respondent.email}."
                    ]
                    found = [respondent.name, phone, respondent.email]
                else:
                    phone = gen.phone()
                    after = [f"\n\nPlease contact our office on {phone}."]
                    found = [phone]
            current = draft.answers[key]
            assert isinstance(current, str)
            draft.answers[key] = _attach(current, before, after)
            draft.personal_data[key] = tuple(found)
    return draft


def _campaign_letter(
    gen: _Generator, person: _Person, sign: bool
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """One campaign member's letter: the template as is, or with small personal edits."""
    rng = gen.rng
    if not sign and rng.random() < 0.2:  # pasted unchanged
        themes_all = {t for _, t in _CAMPAIGN_SENTENCE_THEMES if t is not None}
        return CAMPAIGN_TEMPLATE, tuple(sorted(themes_all)), ()
    sentences = [s for s, _ in _CAMPAIGN_SENTENCE_THEMES]
    themes = [t for _, t in _CAMPAIGN_SENTENCE_THEMES]
    r = rng.random()
    if r < 0.1:  # drop the sentence about trust
        del sentences[4], themes[4]
    elif r < 0.55:  # a sentence in the respondent's own words
        pool = [
            (t, x)
            for t in _P1.themes
            if t.leaning in ("oppose", "conditional")
            for x in t.templates
            if x.startswith("!")
        ]
        theme, template = rng.choice(pool)
        own = _vary(_fill(template, rng, _P1.context, "individual", None), rng)
        at = rng.choice((1, len(sentences) - 1, len(sentences)))
        sentences.insert(at, own)
        themes.insert(at, theme.code)
    body = " ".join(sentences)
    if rng.random() < 0.25:
        body = _add_typos(body, rng, 1)
    parts = []
    if rng.random() < 0.9:
        parts.append(_CAMPAIGN_TITLE)
    greeting = rng.choice(
        ("", "", "Dear Sir or Madam,", "To whom it may concern,", "Dear Cabinet Office,", "Hello,")
    )
    if greeting:
        parts.append(greeting)
    parts.append(body)
    found: tuple[str, ...] = ()
    if sign:
        sign_off = rng.choice(("Yours faithfully,\n", "Regards,\n", "Thank you,\n", ""))
        parts.append(sign_off + person.full)
        found = (person.full,)
    gold = tuple(sorted({t for t in themes if t is not None}))
    return "\n\n".join(parts), gold, found


def _submitted_at(
    gen: _Generator, start: datetime, end: datetime, early_share: float = 0.25
) -> datetime:
    rng = gen.rng
    span = (end - start).total_seconds()
    if rng.random() < early_share:
        offset = rng.random() * min(span, 7 * 86400)
    else:
        offset = rng.random() * span
    return start + timedelta(seconds=int(offset))


def _individual(gen: _Generator, channel: str) -> tuple[DemoRespondent, _Person | None, _Person]:
    rng = gen.rng
    region = gen.region()
    person = gen.person(region)
    named = channel in ("email", "post") or rng.random() < 0.9
    email: str | None = gen.email(person)
    if channel == "post" and rng.random() < 0.7:
        email = None
    consent = _weighted(
        rng, (("publish", 0.45), ("publish_anonymously", 0.35), ("do_not_publish", 0.2))
    )
    respondent = DemoRespondent(
        kind="individual",
        name=person.full if named else None,
        organisation_name=None,
        organisation_type=None,
        email=email,
        region=region,
        publication_consent=consent,
        channel=channel,
    )
    return respondent, (person if named else None), person


def _organisation_pool(rng: random.Random) -> list[tuple[str, str, str, tuple[int, ...]]]:
    pool = list(_ORGANISATIONS)
    councils = [f"{p} {k}" for p in _COUNCIL_PLACES for k in _COUNCIL_KINDS]
    rng.shuffle(councils)
    used_places: list[str] = []
    for council in councils:
        place = council.split(" ")[0]
        if place in used_places:
            continue
        used_places.append(place)
        disposition = rng.choice(("supportive", "supportive", "pragmatic"))
        pool.append((council, "local authority", disposition, (1, 2, 4)))
    return pool


def _build_main(seed: int) -> DemoConsultation:
    rng = random.Random(f"consult-demo:{seed}:main")
    gen = _Generator(rng)
    specs = _MAIN_SPECS
    n_total = rng.randint(365, 400)
    n_orgs = round(n_total * 0.15)
    n_individuals = n_total - n_orgs - CAMPAIGN_SIZE

    responses: list[DemoResponse] = []

    # Individuals
    for _ in range(n_individuals):
        channel = _weighted(rng, (("web", 0.8), ("api", 0.05), ("email", 0.1), ("post", 0.05)))
        respondent, named_person, person = _individual(gen, channel)
        disposition = _weighted(rng, (("sceptic", 0.4), ("pragmatic", 0.35), ("supportive", 0.25)))
        if channel in ("email", "post"):
            k = rng.choices((1, 2), weights=(0.7, 0.3))[0]
        else:
            k = rng.choices((0, 1, 2, 3, 4, 5), weights=(15, 45, 25, 10, 3, 2))[0]
        written = _pick_proposals(rng, specs, k)
        draft = _respond(gen, specs, respondent, named_person, disposition, written, 0.17)
        if not draft.answers:  # cannot happen for web/api; keep letters non-empty
            continue
        submitted = _submitted_at(gen, OPENS_AT, DEMO_NOW)
        responses.append(_freeze(specs, respondent, draft, submitted, None))

    # Organisations
    orgs_by_type: dict[str, list[tuple[str, str, str, tuple[int, ...]]]] = {}
    for org in _organisation_pool(rng):
        orgs_by_type.setdefault(org[1], []).append(org)
    for _ in range(n_orgs):
        available = [(t, w) for t, w in _ORG_TYPE_WEIGHTS if orgs_by_type.get(t)]
        org_type = _weighted(rng, available)
        candidates = orgs_by_type[org_type]
        name, otype, disposition, focus = candidates.pop(rng.randrange(len(candidates)))
        region = gen.region()
        contact = gen.person(region)
        slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")[:30].strip("-")
        domain = f"{slug}.example.org"
        has_contact = rng.random() < 0.85
        email = gen.email(contact, domain) if has_contact else f"consultations@{domain}"
        channel = _weighted(rng, (("web", 0.6), ("email", 0.3), ("api", 0.05), ("post", 0.05)))
        respondent = DemoRespondent(
            kind="organisation",
            name=contact.full if has_contact else None,
            organisation_name=name,
            organisation_type=otype,
            email=email,
            region=region,
            publication_consent=_weighted(
                rng, (("publish", 0.8), ("publish_anonymously", 0.1), ("do_not_publish", 0.1))
            ),
            channel=channel,
        )
        written = sorted({i - 1 for i in focus} | set(_pick_proposals(rng, specs, 1)))
        if rng.random() < 0.3:
            written = sorted(set(written) | set(_pick_proposals(rng, specs, 2)))
        draft = _respond(gen, specs, respondent, contact, disposition, written, 0.35)
        submitted = _submitted_at(gen, OPENS_AT + timedelta(days=20), DEMO_NOW, 0.0)
        responses.append(_freeze(specs, respondent, draft, submitted, None))

    # The campaign: a burst over a few days in October, through a campaign website that
    # submits via the API, by email, or by people who paste it into the web form.
    burst_start = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)
    for _ in range(CAMPAIGN_SIZE):
        channel = _weighted(rng, (("api", 0.45), ("email", 0.35), ("web", 0.2)))
        respondent, named_person, person = _individual(gen, channel)
        respondent = replace(respondent, name=person.full)
        sign = rng.random() < (0.5 if channel == "email" else 0.25)
        letter, themes, found = _campaign_letter(gen, person, sign)
        draft = _Draft()
        draft.answers[_P1.explain_key] = letter
        draft.gold_themes[_P1.explain_key] = themes
        draft.gold_stance[_P1.stance_key] = "oppose"
        if found:
            draft.personal_data[_P1.explain_key] = found
        if channel != "email":
            draft.answers[_P1.stance_key] = "Disagree" if rng.random() < 0.93 else "Agree"
            for spec in specs[1:]:
                stance = gen.stance_for(spec, "sceptic")
                option = _OPTION_FOR[stance] if stance != "mixed" else STANCE_OPTIONS[2]
                draft.answers[spec.stance_key] = option
                draft.gold_stance[spec.stance_key] = STANCE_MAP[option]
        submitted = burst_start + timedelta(seconds=int(rng.random() * 5 * 86400))
        responses.append(_freeze(specs, respondent, draft, submitted, CAMPAIGN_SLUG))

    responses.sort(
        key=lambda r: (r.submitted_at, r.respondent.email or "", r.respondent.name or "")
    )
    return DemoConsultation(
        slug="better-use-of-data",
        title="Better use of data in government",
        description=(
            "Government holds a great deal of information about people and businesses. This "
            "consultation asks for your views on five proposals that would let public bodies "
            "share some of that information: to offer tailored public services, to use civil "
            "registration records, to help households in fuel poverty, to manage debt and "
            "reduce fraud, and to support research and official statistics. Each proposal "
            "explains what would be shared, with whom and under what safeguards. You can "
            "answer as many or as few of the open questions as you like.\n\n"
            "This is a demonstration consultation. Its subjects are modelled on the UK "
            "Cabinet Office's 2016 consultation of the same name, but every proposal text "
            "and response here was written or generated for Consult, and all people, "
            "organisations and contact details are fictional."
        ),
        status="open",
        opens_at=OPENS_AT,
        closes_at=CLOSES_AT,
        proposals=tuple(_public_proposal(s) for s in specs),
        responses=tuple(responses),
    )


def _sort_key(r: DemoResponse) -> tuple[datetime, str, str]:
    return (r.submitted_at, r.respondent.email or "", r.respondent.name or "")


def _pick_proposals(rng: random.Random, specs: Sequence[_ProposalSpec], k: int) -> list[int]:
    indexes = list(range(len(specs)))
    weights = [s.interest for s in specs]
    picked: list[int] = []
    while len(picked) < min(k, len(specs)):
        i = rng.choices(indexes, weights=weights)[0]
        if i not in picked:
            picked.append(i)
    return sorted(picked)


def _freeze(
    specs: Sequence[_ProposalSpec],
    respondent: DemoRespondent,
    draft: _Draft,
    submitted_at: datetime,
    campaign: str | None,
) -> DemoResponse:
    answers, gold_themes, gold_stance, personal = _ordered(specs, draft)
    return DemoResponse(
        respondent=respondent,
        answers=answers,
        submitted_at=submitted_at,
        campaign=campaign,
        gold_themes=gold_themes,
        gold_stance=gold_stance,
        personal_data=personal,
    )


def _public_proposal(spec: _ProposalSpec) -> DemoProposal:
    return DemoProposal(
        title=spec.title,
        summary=spec.summary,
        questions=spec.questions,
        themes=tuple(t.public() for t in spec.themes),
    )


# ---------------------------------------------------------------------------
# The closed and the draft consultations
# ---------------------------------------------------------------------------


def _build_closed(seed: int) -> DemoConsultation:
    rng = random.Random(f"consult-demo:{seed}:closed")
    gen = _Generator(rng)
    specs = (_R1,)
    opens = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    closes = datetime(2026, 5, 29, 23, 59, tzinfo=UTC)
    responses: list[DemoResponse] = []
    for i in range(14):
        disposition = _weighted(rng, (("sceptic", 0.2), ("pragmatic", 0.4), ("supportive", 0.4)))
        if i < 3:
            name, otype, _, _ = _ORGANISATIONS[(i * 11 + 2) % len(_ORGANISATIONS)]
            region = gen.region()
            contact = gen.person(region)
            slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")[:30].strip("-")
            respondent = DemoRespondent(
                kind="organisation",
                name=contact.full,
                organisation_name=name,
                organisation_type=otype,
                email=gen.email(contact, f"{slug}.example.org"),
                region=region,
                publication_consent="publish",
                channel="web",
            )
            person: _Person | None = contact
        else:
            channel = "web" if i % 5 else "email"
            respondent, person, _ = _individual(gen, channel)
        written = [0] if rng.random() < 0.85 or respondent.channel != "web" else []
        draft = _respond(gen, specs, respondent, person, disposition, written, 0.1)
        submitted = _submitted_at(gen, opens, closes - timedelta(days=1))
        responses.append(_freeze(specs, respondent, draft, submitted, None))
    responses.sort(key=_sort_key)
    return DemoConsultation(
        slug="register-of-data-sharing",
        title="A public register of data sharing agreements",
        description=(
            "Should every public body publish its data sharing agreements in one searchable "
            "register? This short consultation has closed; a summary of responses will "
            "follow.\n\nDemonstration content: all responses are generated and fictional."
        ),
        status="closed",
        opens_at=opens,
        closes_at=closes,
        proposals=(_public_proposal(_R1),),
        responses=tuple(responses),
    )


def _build_draft() -> DemoConsultation:
    proposal = DemoProposal(
        title="Linking attendance and family support records",
        summary=(
            "Allow schools and councils to link attendance records with family support "
            "records, so that children who are persistently absent can be offered help "
            "earlier."
        ),
        questions=(
            _stance_q("s1_q1", "1"),
            _open_q("s1_q2", "2", _EXPLAIN),
            _open_q(
                "s1_q3",
                "3",
                "What should schools and councils never be allowed to do with these records?",
            ),
        ),
        themes=(
            DemoTheme(
                "S1-01",
                "Earlier help for absent children",
                "Linking records would let services notice and help sooner.",
                ("absence", "early help", "children", "support"),
            ),
            DemoTheme(
                "S1-02",
                "Punishment rather than support",
                "Fear that linked records will be used to fine or blame families.",
                ("fines", "punishment", "blame", "parents"),
            ),
            DemoTheme(
                "S1-03",
                "Children's privacy",
                "Children's records deserve particular protection.",
                ("children", "privacy", "records", "school"),
            ),
            DemoTheme(
                "S1-04",
                "Workload for schools",
                "Extra data work for already stretched school staff.",
                ("workload", "teachers", "admin", "resources"),
            ),
            DemoTheme(
                "S1-05",
                "Safeguards and oversight",
                "Clear limits, audits and independent oversight of access.",
                ("safeguards", "oversight", "audit", "limits"),
            ),
        ),
    )
    return DemoConsultation(
        slug="school-attendance-data",
        title="Sharing data to support school attendance",
        description=(
            "Draft: a proposal to link school attendance records with family support "
            "records. Not yet open for responses.\n\nDemonstration content."
        ),
        status="draft",
        opens_at=datetime(2027, 1, 11, 9, 0, tzinfo=UTC),
        closes_at=datetime(2027, 4, 5, 23, 59, tzinfo=UTC),
        proposals=(proposal,),
        responses=(),
    )


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def build_demo(seed: int = 2016) -> DemoConsultation:
    """The demo consultation (open), with a closed and a draft one in `extra_consultations`.

    Pure and deterministic: the same seed always gives equal objects.
    """
    main = _build_main(seed)
    return replace(main, extra_consultations=(_build_closed(seed), _build_draft()))
