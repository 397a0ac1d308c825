"""Personal-data redaction for consultation answers.

Finds e-mail addresses, UK phone numbers, UK postcodes, National Insurance
numbers, URLs with personal paths and people's names, and replaces each with a
typed placeholder (``[EMAIL]``, ``[PHONE]``, ``[POSTCODE]``, ``[NI_NUMBER]``,
``[URL]``, ``[NAME]``). The raw text is never modified; :class:`Redaction`
carries the redacted text and the spans, which point into the ORIGINAL text.

The default path is pure precompiled regular expressions plus cheap pre-checks
(no spaCy), so a typical 300-character answer costs a few microseconds. A
trained spaCy pipeline (``en_core_web_sm``) adds PERSON entities only when it is
installed and ``use_ner=True``; nothing is ever downloaded.

Decisions (documented here because the design leaves them open):

* URLs: a URL is redacted when it has a path, query or fragment (anything after
  the host other than a bare ``/``), because that is where personal pages live
  (``facebook.com/jane.smith``, ``linkedin.com/in/...``). Bare domains
  (``www.gov.uk``, ``example.org``) are kept: they name organisations, not
  people. URLs on public-sector hosts (``*.gov.uk``, ``*.parliament.uk``,
  ``*.nhs.uk``, ``legislation.gov.uk`` ...) are kept even with a path, since
  respondents cite legislation and guidance, unless they carry a query string,
  ``@`` or ``~``.
* Postcodes: all formats incl. ``GIR 0AA``, with or without the space, any
  case; lowercase ordinals such as ``m1 1st`` are not postcodes.
* NI numbers: two prefix letters obeying HMRC's rules (first letter not
  D F I Q U V, second not D F I O Q U V, not BG GB NK KN TN NT ZZ), six digits
  in any grouping, suffix A-D. The suffix may be missing only when the prefix
  is upper case. HMRC's own dummy ``QQ 12 34 56 C`` is therefore not matched.
* Names: metadata names (full name anywhere, case-insensitive; a first or last
  name of 3+ letters alone when capitalised), a title (Mr, Dr, Cllr ...) with
  the following 1-2 capitalised words (the title is part of the span), a
  sign-off ("Kind regards, Jane Smith") at the end of a line, "My name is X",
  "I am X Y" / "I'm X" when X is a known first name, and a known first name
  followed by a capitalised surname. Names found by these rules are also
  redacted where they recur elsewhere in the same text. Words such as
  "Concerned", "Chancellor", "Council" or "Street" stop a name.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "KINDS",
    "PersonalDataRedactor",
    "Redaction",
    "Span",
    "redact",
    "redact_many",
]

EMAIL = "EMAIL"
PHONE = "PHONE"
POSTCODE = "POSTCODE"
NI_NUMBER = "NI_NUMBER"
URL = "URL"
NAME = "NAME"
KINDS: tuple[str, ...] = (EMAIL, PHONE, POSTCODE, NI_NUMBER, URL, NAME)

# When spans of different kinds overlap, the earlier kind in this order wins.
_PRIORITY = {EMAIL: 0, URL: 1, NI_NUMBER: 2, PHONE: 3, POSTCODE: 4, NAME: 5}


@dataclass(frozen=True)
class Span:
    """A piece of personal data: ``text[start:end]`` of the ORIGINAL text."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redaction:
    """The redacted text and the spans (offsets into the original text)."""

    text: str
    spans: tuple[Span, ...]


# --------------------------------------------------------------------------
# Structured identifiers
# --------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.+'-])[A-Za-z0-9][\w.+'%-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_BRACKET_AT = r"(?:\[at\]|\(at\)|\{at\}|<at>)"
_DOT = r"(?:\[dot\]|\(dot\)|\{dot\}|<dot>|[ \t]+dot[ \t]+|\.)"
_SPELLED_DOT = r"(?:[ \t]+dot[ \t]+)"
_TLD = r"(?:com|org|net|uk|ie|eu|io|me|info|gov|ac|co|edu)"
# Obfuscated forms: "jane.smith [at] example [dot] org", "jane at example dot com".
_EMAIL_OBFUSCATED_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][\w.+-]*"
    rf"(?:[ \t]*{_BRACKET_AT}[ \t]*[A-Za-z0-9-]+(?:[ \t]*{_DOT}[ \t]*[A-Za-z0-9-]+)*?"
    rf"[ \t]*{_DOT}[ \t]*{_TLD}"
    rf"|[ \t]+at[ \t]+[A-Za-z0-9-]+(?:{_SPELLED_DOT}[A-Za-z0-9-]+)*?{_SPELLED_DOT}{_TLD})\b",
    re.IGNORECASE,
)

# UK phone numbers. The national significant number (NSN, without the trunk 0)
# has 9 or 10 digits and starts with 1, 2, 3, 5, 7, 8 or 9; digits may be
# separated by spaces, dashes, dots or a closing bracket.
_PHONE_RE = re.compile(
    r"(?<![\w+/])"
    r"(?:(?:\+|00)[ \t]?44\)?[ \t.-]?(?:\([ \t]?0[ \t]?\)[ \t.-]?|0)?\(?|\(?0)"
    r"[1-35789](?:[ \t.)-]{0,2}\d){8,9}"
    r"(?![\d/])"
)
_NON_DIGIT_RE = re.compile(r"\D")

# UK postcodes (outward code rules from the Royal Mail format) and GIR 0AA.
_POSTCODE_RE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:GIR[ \t]?0AA"
    r"|(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[ \t]?[0-9][ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_ORDINAL_INWARD = frozenset({"st", "nd", "rd", "th"})

_NI_RE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ \t-]?"
    r"(\d{2})[ \t-]?(\d{2})[ \t-]?(\d{2})"
    r"(?:[ \t-]?([A-D]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NI_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})

_URL_RE = re.compile(
    r"(?:\b(?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]+"
    r"|(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|org|net|uk|io|me|info|biz|eu|ie|us|co|tv|ly|app|dev|blog|site|online|page|gl)"
    r"(?::\d{2,5})?/[^\s<>\"'\[\]{}|\\^`]*)",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\")]}>"
_PUBLIC_HOSTS = (
    "gov.uk",
    "gov.scot",
    "gov.wales",
    "llyw.cymru",
    "parliament.uk",
    "parliament.scot",
    "senedd.wales",
    "niassembly.gov.uk",
    "nhs.uk",
    "police.uk",
    "europa.eu",
    "ico.org.uk",
    "ofcom.org.uk",
    "ons.gov.uk",
)


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_RSQ = "\u2019"  # right single quotation mark, as in O\u2019Brien or I\u2019m
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = rf"(?:Mc|Mac|O'|O{_RSQ}|D'|D{_RSQ}|De|Di|Le|La|Van|Von|Fitz)?[{_UP}][{_LO}]+(?:['{_RSQ}-][{_UP}][{_LO}]+)?"
_INITIALS = rf"(?:[{_UP}]\.[ \t]?){{1,3}}"
_TITLE = (
    r"(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Rev|Revd|Reverend|Cllr|Councillor"
    r"|Lord|Lady|Baroness|Baron)"
)
# person: optional initials, then 1-3 name words
_PERSON = rf"(?:{_INITIALS})?{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"

_TITLE_RE = re.compile(
    rf"\b{_TITLE}\.?[ \t]+(?P<p>(?:{_INITIALS})?{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)"
)

_SIGNOFF_PHRASE = (
    r"(?i:(?:(?:with[ \t]+)?(?:kind|kindest|best|warm|warmest|many)[ \t]+"
    r"(?:regards|wishes|thanks)"
    r"|regards|yours[ \t]+(?:sincerely|faithfully|truly)|sincerely|faithfully"
    r"|thanks(?:[ \t]+again)?|thank[ \t]+you|cheers|best|all[ \t]+the[ \t]+best"
    r"|respectfully))"
)
_SIGNOFF_RE = re.compile(
    rf"(?:^|(?<=[.!?;)]))[ \t]*{_SIGNOFF_PHRASE}[ \t]*[,.:!-]?[ \t]*(?:\r?\n[ \t]*)*"
    rf"(?:{_TITLE}\.?[ \t]+)?(?P<p>{_PERSON})"
    rf"(?=[ \t]*[.!]?[ \t]*(?:\r?\n|$)|[ \t]*[,(])",
    re.MULTILINE,
)
_SIGNOFF_TAIL = 240  # sign-offs are looked for in the last characters only

_INTRO_RE = re.compile(
    r"(?i:\bmy[ \t]+name[ \t]+is|\bmy[ \t]+name's|\bI[ \t]+am[ \t]+called|\bI'm[ \t]+called"
    r"|\bthis[ \t]+(?:response|submission|letter)[ \t]+is[ \t]+from"
    r"|\b(?:submitted|written|sent)[ \t]+by|\b(?:name|from|signed)[ \t]*:)"
    rf"[ \t]*[,:-]?[ \t]*(?:{_TITLE}\.?[ \t]+)?(?P<p>{_PERSON})"
)
_INTRO_LOWER_RE = re.compile(
    r"(?i:\bmy[ \t]+name[ \t]+is)[ \t]+(?P<p>[a-z]{2,}(?:[ \t]+[a-z][a-z'-]+)?)\b"
)
_IAM_RE = re.compile(rf"\b(?:I[ \t]+am|I'm|I{_RSQ}m|I,)[ \t]+(?P<p>{_PERSON})")
# a capitalised word followed by a (non-consumed) name word: first name + surname
_BIGRAM_RE = re.compile(
    rf"(?<![\w'{_RSQ}-])(?P<f>[{_UP}][{_LO}]+)(?=[ \t]+(?P<s>(?:{_INITIALS})?{_NAME_WORD}"
    rf"(?:[ \t]+{_NAME_WORD})?))"
)
_WORD_SPLIT_RE = re.compile(r"[ \t]+")
_CAP_WORD_RE = re.compile(rf"[{_UP}][{_LO}]+")

# Common first names (UK, several generations). Names that are also common
# capitalised words in consultation text (Will, May, Grant, Mark, Bill, Hope,
# Faith, Joy, Rose, Dawn, Jordan, Chelsea ...) are left out on purpose.
_FIRST_NAMES_TEXT = """
Aaron Abbie Abdul Abigail Adam Adrian Agnes Ahmed Aidan Aiden Aileen Aisha Alan Alana Alastair
Albert Alex Alexander Alexandra Alfie Alfred Ali Alice Alison Alistair Allan Amanda Amelia Amir
Amy Andrea Andrew Andy Angela Angus Anita Ann Anna Anne Annette Annie Anthony Antony Archie
Arthur Ashley Audrey Ava Barbara Barry Beatrice Ben Benjamin Bernard Beth Bethan Bethany Betty
Beverley Bob Brenda Brendan Brian Bridget Bruce Callum Calum Cameron Carl Carol Caroline
Carolyn Catherine Cathy Charles Charlie Charlotte Chloe Chris Christine Christopher Claire Clare
Colin Connor Conor Craig Dafydd Daisy Dale Damian Daniel Danielle Darren Dave David Dean Debbie
Deborah Declan Denise Dennis Derek Diana Diane Dominic Donald Donna Doreen Doris Dorothy
Dylan Edith Edward Eileen Elaine Eleanor Elizabeth Ella Ellie Eloise Emily Emma Eric Erin Ethan
Eve Evelyn Fatima Fergus Fiona Fraser Frances Francesca Frank Freddie Frederick Freya Gail
Gareth Gary Gavin Gemma Geoffrey George Georgina Gerald Gillian Glenn Gordon Graeme Graham
Greg Gregory Gwen Hamish Hannah Harriet Harry Harvey Hayley Hazel Helen Henry Hugh Hugo Iain
Ian Imogen Irene Isaac Isabel Isabella Isabelle Isla Jack Jackie Jacob Jacqueline Jake James
Jamie Jane Janet Janice Jasmine Jason Jean Jeffrey Jennifer Jenny Jeremy Jessica Jill Joan
Joanna Joanne Jodie Joe Joel John Jonathan Joseph Josephine Josh Joshua Joyce Judith Judy
Julia Julian Julie Justin Karen Kate Katherine Kathleen Kathryn Katie Kay Keith Kelly Kenneth
Kerry Kevin Kieran Kim Kirsty Laura Lauren Lawrence Leah Lee Leo Leon Leslie Lewis Liam Linda
Lindsay Lisa Lorraine Louis Louise Lucy Luke Lydia Lynn Lynne Malcolm Mandy Margaret Maria
Marie Marion Martin Martyn Mary Matthew Maureen Max Megan Melanie Michael Michelle Mike
Mohammed Mohammad Mohamed Muhammad Molly Nadia Naomi Natalie Nathan Neil Niamh Nicholas Nick
Nicola Nicole Nigel Noah Norman Oliver Olivia Omar Owen Pamela Patricia Patrick Paul Paula
Pauline Peter Philip Phillip Phoebe Polly Priya Rachel Rajesh Ravi Rebecca Rhian Rhys Richard
Rita Robert Robin Rory Ross Roy Russell Ruth Ryan Sally Samantha Samuel Sandra Sanjay Sarah
Scott Sean Shane Sharon Sheila Shirley Sian Simon Siobhan Sophie Stacey Stephen Steve Steven
Stewart Stuart Susan Suzanne Sylvia Tanya Teresa Theresa Thomas Tim Timothy Tina Toby Tom
Tony Tracey Tracy Trevor Valerie Vanessa Vicky Victoria Vincent Wendy William Yasmin Yvonne
Zara Zoe Zoë
"""
_FIRST_NAMES = frozenset(_FIRST_NAMES_TEXT.split())

# Capitalised words that end or forbid a name (function words, roles, titles
# of offices, common adjectives after "I am", policy and organisation words).
_STOP_WORDS_TEXT = """
A An And Or But Nor Of In On At To For From With By Via Per As So If Than Then The This That These
Those It Its I We You They He She Me Us Them My Our Your Their His Her All Any Some No Not Yes
Also Very Please Dear Sir Madam Madame Sirs Team Everyone Everybody Colleagues Friends
Minister Ministers Secretary Chair Chairman Chairwoman Chairperson Chief Mayor Justice Speaker
President Chancellor Lieutenant Advocate General Officer Commissioner Director Head Leader
Member Members Lord Lords Lady Baroness Baron Prime Deputy Permanent Attorney Solicitor
Government Council Department Consultation Proposal Proposals Act Bill Section Part Chapter
Annex Appendix Question Questions Data Digital Economy Cabinet Parliament House Commons Court
Committee Office Agency Authority Service Services Statistics Research Registration Civil
Public Private National Local Regional Central Royal British English Scottish Welsh Irish
European International Concerned Opposed Worried Strongly Totally Fully Against Agree
Disagree Support Supportive Unsure Sure Happy Unhappy Glad Writing Responding Retired
Disabled Disappointed Delighted Pleased Grateful Keen Aware Afraid Appalled Shocked Surprised
Alarmed Confused Interested Responsible Unable Able Here There Now Today Tomorrow Yesterday
However Therefore Although Because While Whilst Where When What Who Why How Which Whether
Overall Finally Firstly Secondly Thirdly Lastly Regards Thanks Thank Cheers Best Kind Yours
Sincerely Faithfully Truly Wishes Many Warm Again Note Notes See Ref Reference Re Subject
Response Responses Comment Comments Answer Answers Submission Letter Email Phone Tel Mobile
Address Postcode Name Signed Sent Date Attached Enclosed Summary Introduction Conclusion
Monday Tuesday Wednesday Thursday Friday Saturday Sunday
Anonymous Resident Residents Citizen Citizens Taxpayer Parent Patient Carer Volunteer
Student Teacher Doctor Nurse Professor Councillor Cllr Rev Reverend Mr Mrs Ms Miss Mx Dr Prof
God Christ Jesus Allah Brexit Covid Coronavirus Internet Web Google Facebook Twitter
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_ORG_WORDS_TEXT = """
Association Associations Society Trust Trusts Group Groups Council Councils Ltd Limited Plc
Llp Network Team Office Institute Alliance Forum Partnership Union Federation Committee Board
Service Services Department Ministry Agency Authority Commission Centre Center Foundation
Charity Advice Campaign Coalition Consortium Company Club Church Chapel Mosque Temple School
Schools College University Hospital Surgery Practice Clinic Library Project Programme Unit
Care Housing Residents Citizens Friends Watch Action Rights Privacy International Watchdog
Panel Executive Directorate Secretariat Partners Solutions Consulting Associates Holdings
Street Road Lane Avenue Way Close Drive Square Place Park Gardens Station Line Bridge Hill
Green Court Hall Airport Harbour Port Estate Valley River Crescent Terrace Row Grove Walk
Parade Mews Wharf Quay Junction Bay Island Islands Forest Moor Heath Common Castle Cathedral
Abbey Tower Building Buildings Centre Market Theatre Museum Gallery Stadium Arena Ground
Act Acts Bill Regulations Regulation Directive Agreement Strategy Framework Report Review
Inquiry Index Scheme Fund Award Prize Lecture Principle Principles Test Rule Rules Law Laws
Code Charter Convention Treaty Order Plan Policy Standard Standards Guidance Register
Foundation Initiative Fellowship Memorial Institution Academy Collective Cooperative
Co-operative Federation Guild League Movement Organisation Organization Party Press Media News
Times Guardian Telegraph Post Mail Herald Gazette Journal Review Magazine Radio Television
"""
_ORG_WORDS = frozenset(_ORG_WORDS_TEXT.split())


def _is_stop(word: str) -> bool:
    return word in _STOP_WORDS or word in _ORG_WORDS


def _trim_person(text: str, start: int, end: int, *, strict: bool) -> tuple[int, int] | None:
    """Trim a captured name to its name words.

    Leading initials are kept. Capture stops at the first stop word. With
    ``strict`` (contexts such as sign-offs, where an organisation is as likely
    as a person) any organisation word rejects the whole capture.
    """
    chunk = text[start:end]
    pos = 0
    last_end = 0
    words = 0
    for piece in _WORD_SPLIT_RE.split(chunk):
        if not piece:
            continue
        idx = chunk.find(piece, pos)
        pos = idx + len(piece)
        # initials like "J." or "J.R." are fine, they are not words
        core = piece.rstrip(".")
        if len(core) <= 3 and all(c.isupper() or c == "." for c in piece) and "." in piece:
            last_end = pos
            continue
        if strict and piece in _ORG_WORDS:
            return None
        if _is_stop(piece):
            break
        last_end = pos
        words += 1
    if words == 0:
        return None
    return start, start + last_end


def _title_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _TITLE_RE.finditer(text):
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=False)
        if trimmed is not None:
            out.append((m.start(), trimmed[1]))


def _signoff_spans(text: str, out: list[tuple[int, int]]) -> None:
    offset = max(0, len(text) - _SIGNOFF_TAIL)
    if offset:
        # start the tail at a line start so "^" keeps its meaning
        nl = text.rfind("\n", 0, offset)
        offset = nl + 1 if nl >= 0 else 0
    for m in _SIGNOFF_RE.finditer(text, offset):
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=True)
        if trimmed is not None:
            out.append(trimmed)


def _intro_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _INTRO_RE.finditer(text):
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=True)
        if trimmed is not None:
            out.append(trimmed)
    for m in _INTRO_LOWER_RE.finditer(text):
        first = m.group("p").split()[0]
        if first.capitalize() in _FIRST_NAMES:
            out.append((m.start("p"), m.end("p")))


def _iam_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _IAM_RE.finditer(text):
        p = m.group("p")
        first = _WORD_SPLIT_RE.split(p, maxsplit=1)[0]
        if first not in _FIRST_NAMES and not (len(first) <= 3 and first.endswith(".")):
            continue
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=True)
        if trimmed is not None:
            out.append(trimmed)


def _bigram_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _BIGRAM_RE.finditer(text):
        if m.group("f") not in _FIRST_NAMES:
            continue
        s_start, s_end = m.start("s"), m.end("s")
        rest = _WORD_SPLIT_RE.split(text[s_start:s_end])
        if any(w in _ORG_WORDS for w in rest):
            continue
        trimmed = _trim_person(text, s_start, s_end, strict=True)
        if trimmed is None:
            continue
        # a following organisation / place word makes it a place ("Victoria Park Road")
        nxt = _CAP_WORD_RE.match(text, trimmed[1] + 1) if trimmed[1] < len(text) else None
        if nxt is not None and nxt.group() in _ORG_WORDS:
            continue
        out.append((m.start("f"), trimmed[1]))


def _find_word(text: str, word: str, out: list[tuple[int, int]]) -> None:
    """Case-sensitive whole-word occurrences of ``word`` (no regex compile)."""
    n = len(word)
    i = text.find(word)
    while i >= 0:
        before = text[i - 1] if i else " "
        after = text[i + n] if i + n < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            out.append((i, i + n))
        i = text.find(word, i + 1)


def _name_parts(name: str) -> list[str]:
    """Parts of a full name that may be redacted alone (>= 3 letters, not stop words)."""
    parts = [p.strip(".,") for p in name.split()]
    parts = [p for p in parts if p and p not in _STOP_WORDS]
    if len(parts) < 2:
        return []
    return [p[0].upper() + p[1:] for p in parts if len(p) >= 3 and p.isalpha()]


def _propagate(text: str, found: list[tuple[int, int]], out: list[tuple[int, int]]) -> None:
    """Redact other occurrences of names already detected in this text."""
    seen: set[str] = set()
    for start, end in found:
        name = text[start:end]
        words = [w for w in _WORD_SPLIT_RE.split(name) if w]
        # drop a leading title
        while words and words[0].rstrip(".") in _STOP_WORDS:
            words = words[1:]
        candidates = [" ".join(words)] if len(words) > 1 else []
        candidates += [w for w in words if len(w) >= 3 and w.isalpha() and w[0].isupper()]
        for c in candidates:
            if c and c not in seen and c not in _STOP_WORDS:
                seen.add(c)
                _find_word(text, c, out)


@lru_cache(maxsize=4096)
def _metadata_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    full: list[str] = []
    parts: list[str] = []
    for raw in names:
        name = " ".join(raw.split())
        if not name or not any(c.isalpha() for c in name):
            continue
        words = name.split(" ")
        full.append(r"[ \t\r\n]+".join(re.escape(w) for w in words))
        for part in _name_parts(name):
            # capitalised first letter, rest case-insensitive
            parts.append(re.escape(part[0]) + (f"(?i:{re.escape(part[1:])})" if part[1:] else ""))
    if not full:
        return None
    alternatives = [f"(?i:{f})" for f in sorted(set(full), key=len, reverse=True)]
    alternatives += sorted(set(parts), key=len, reverse=True)
    return re.compile(r"(?<![\w@.])(?:" + "|".join(alternatives) + r")(?![\w@])")


def _metadata_spans(text: str, names: tuple[str, ...], out: list[tuple[int, int]]) -> None:
    pattern = _metadata_pattern(names)
    if pattern is None:
        return
    for m in pattern.finditer(text):
        out.append((m.start(), m.end()))


def _name_spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    _title_spans(text, found)
    _signoff_spans(text, found)
    lowered = text.lower()
    if "name" in lowered or "by" in lowered or "from" in lowered or "called" in lowered:
        _intro_spans(text, found)
    if "I am" in text or "I'm" in text or f"I{_RSQ}m" in text or "I," in text:
        _iam_spans(text, found)
    _bigram_spans(text, found)
    if found:
        _propagate(text, list(found), found)
    if names:
        _metadata_spans(text, names, found)
    return found


# --------------------------------------------------------------------------
# Structured detectors
# --------------------------------------------------------------------------


def _email_spans(text: str, out: list[Span]) -> None:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            out.append(Span(m.start(), m.end(), EMAIL))
    lowered = text.lower()
    if "at]" in lowered or "at)" in lowered or "at}" in lowered or " dot " in lowered:
        for m in _EMAIL_OBFUSCATED_RE.finditer(text):
            out.append(Span(m.start(), m.end(), EMAIL))


def _phone_spans(text: str, out: list[Span]) -> None:
    for m in _PHONE_RE.finditer(text):
        digits = _NON_DIGIT_RE.sub("", m.group())
        if digits.startswith("0044"):
            nsn = digits[4:]
        elif digits.startswith("44") and m.group().lstrip("(").startswith("+"):
            nsn = digits[2:]
        else:
            nsn = digits[1:]
        if nsn.startswith("0"):  # "+44 (0)20 ..." leaves the trunk zero in
            nsn = nsn[1:]
        if not 9 <= len(nsn) <= 10:
            continue
        if nsn[0] == "7" and len(nsn) != 10:
            continue
        out.append(Span(m.start(), m.end(), PHONE))


def _postcode_spans(text: str, out: list[Span]) -> None:
    for m in _POSTCODE_RE.finditer(text):
        value = m.group()
        if value[-2:] in _ORDINAL_INWARD:  # "m1 1st": lowercase ordinal, not a postcode
            continue
        out.append(Span(m.start(), m.end(), POSTCODE))


def _ni_spans(text: str, out: list[Span]) -> None:
    for m in _NI_RE.finditer(text):
        prefix = m.group(1)
        if prefix.upper() in _NI_BAD_PREFIXES:
            continue
        if m.group(5) is None and not prefix.isupper():
            continue
        out.append(Span(m.start(), m.end(), NI_NUMBER))


def _url_is_personal(url: str) -> bool:
    lowered = url.lower()
    rest = lowered.split("://", 1)[1] if "://" in lowered else lowered
    cut = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if 0 <= i < cut:
            cut = i
    host = rest[:cut].split("@")[-1].split(":")[0]
    tail = rest[cut:]
    if tail in ("", "/"):
        return False
    if any(host == h or host.endswith("." + h) for h in _PUBLIC_HOSTS):
        return "?" in tail or "@" in tail or "~" in tail
    return True


def _url_spans(text: str, out: list[Span]) -> None:
    for m in _URL_RE.finditer(text):
        start, end = m.start(), m.end()
        url = m.group()
        while url and url[-1] in _URL_TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        end = start + len(url)
        if _url_is_personal(url):
            out.append(Span(start, end, URL))


_DIGIT_RE = re.compile(r"\d")
_PHONE_HINT_RE = re.compile(r"\d(?:\D{0,3}\d){8}")


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def _normalise_kinds(kinds: Collection[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(KINDS)
    chosen = frozenset(k.upper() for k in kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {list(KINDS)}")
    return chosen


def _resolve(spans: list[Span]) -> tuple[Span, ...]:
    """Non-overlapping spans: same-kind overlaps are merged, otherwise priority wins."""
    if not spans:
        return ()
    spans.sort(key=lambda s: (_PRIORITY[s.kind], s.start, -s.end))
    kept: list[Span] = []
    for span in spans:
        merged = False
        for i, k in enumerate(kept):
            if span.start < k.end and k.start < span.end:
                if k.kind == span.kind:
                    kept[i] = Span(min(k.start, span.start), max(k.end, span.end), k.kind)
                merged = True
                break
        if not merged:
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    # a merge can make two kept spans of one kind overlap: fold them
    folded: list[Span] = []
    for span in kept:
        if folded and span.start < folded[-1].end:
            prev = folded[-1]
            if prev.kind == span.kind:
                folded[-1] = Span(prev.start, max(prev.end, span.end), prev.kind)
            continue
        folded.append(span)
    return tuple(folded)


def _apply(text: str, spans: tuple[Span, ...]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    pos = 0
    for span in spans:
        pieces.append(text[pos : span.start])
        pieces.append(f"[{span.kind}]")
        pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _detect(
    text: str, names: tuple[str, ...], kinds: frozenset[str], ner: list[tuple[int, int]] | None
) -> tuple[Span, ...]:
    spans: list[Span] = []
    if EMAIL in kinds:
        _email_spans(text, spans)
    if URL in kinds and "/" in text:
        _url_spans(text, spans)
    if _DIGIT_RE.search(text) is not None:
        if PHONE in kinds and _PHONE_HINT_RE.search(text) is not None:
            _phone_spans(text, spans)
        if NI_NUMBER in kinds:
            _ni_spans(text, spans)
        if POSTCODE in kinds:
            _postcode_spans(text, spans)
    if NAME in kinds:
        found = _name_spans(text, names)
        if ner:
            found.extend(ner)
        spans.extend(Span(s, e, NAME) for s, e in found if e > s)
    return _resolve(spans)


def _clean_names(names: Sequence[str] | str | None) -> tuple[str, ...]:
    if not names:
        return ()
    if isinstance(names, str):
        names = (names,)
    return tuple(n for n in (str(x).strip() for x in names if x) if n)


def redact(
    text: str,
    *,
    names: Sequence[str] = (),
    kinds: Collection[str] | None = None,
    use_ner: bool = False,
) -> Redaction:
    """Redact personal data from one text.

    ``names``: the respondent's own name and organisation contacts (people)
    from the metadata; redacted wherever they appear. ``kinds``: restrict to
    some of :data:`KINDS` (default all). ``use_ner``: add PERSON entities from
    an installed ``en_core_web_sm`` (ignored with a warning when not installed).
    """
    return redact_many([text], [names], kinds=kinds, use_ner=use_ner)[0]


def _ner_person_spans(texts: list[str]) -> list[list[tuple[int, int]]] | None:
    from analysis.text import trained_pipeline

    nlp = trained_pipeline()
    if nlp is None:
        warnings.warn(
            "use_ner=True but no trained spaCy pipeline (en_core_web_sm) is installed; "
            "using the rule-based name detection only",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    result: list[list[tuple[int, int]]] = []
    for doc in nlp.pipe(texts, batch_size=256):
        result.append(
            [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PERSON"]
        )
    return result


def redact_many(
    texts: Iterable[str],
    names: Iterable[Sequence[str]] | None = None,
    *,
    kinds: Collection[str] | None = None,
    use_ner: bool = False,
) -> list[Redaction]:
    """Redact a batch. ``names`` (when given) runs parallel to ``texts``."""
    text_list = ["" if t is None else str(t) for t in texts]
    if names is None:
        name_list: list[tuple[str, ...]] = [()] * len(text_list)
    else:
        name_list = [_clean_names(n) for n in names]
        if len(name_list) != len(text_list):
            raise ValueError(
                f"names has {len(name_list)} entries but there are {len(text_list)} texts"
            )
    chosen = _normalise_kinds(kinds)
    ner = _ner_person_spans(text_list) if use_ner and NAME in chosen else None
    out: list[Redaction] = []
    for i, (text, ns) in enumerate(zip(text_list, name_list, strict=True)):
        spans = _detect(text, ns, chosen, ner[i] if ner is not None else None)
        out.append(Redaction(_apply(text, spans), spans))
    return out


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
