"""Personal-data redaction for consultation answers.

Finds e-mail addresses, UK phone numbers, UK postcodes, National Insurance
numbers, URLs with personal paths, people's names and street addresses, and
replaces each with a typed placeholder (``[EMAIL]``, ``[PHONE]``, ``[POSTCODE]``,
``[NI_NUMBER]``, ``[URL]``, ``[NAME]``, ``[ADDRESS]``). The raw text is never
modified; :class:`Redaction` carries the redacted text and the spans, which
point into the ORIGINAL text.

Speed: the default path is precompiled regular expressions and plain string
searches, no spaCy. Every pattern starts with a literal or a small character
set (``@``, a digit, ``+``, ``Mr`` ...) so that the regex engine can skip
through the text quickly; word boundaries are checked in Python on the few
candidates. A typical 300-character answer costs tens of microseconds. A
trained spaCy pipeline (``en_core_web_sm``) adds PERSON entities only when it
is installed and ``use_ner=True``; nothing is ever downloaded.

Decisions (the design leaves these open):

* URLs: a URL is redacted when it has a path, query or fragment (anything after
  the host other than a bare ``/``), because that is where personal pages live
  (``facebook.com/jane.smith``, ``linkedin.com/in/...``). Bare domains
  (``www.gov.uk``, ``example.org``) are kept: they name organisations, not
  people. URLs on public-sector hosts (``*.gov.uk``, ``*.parliament.uk``,
  ``*.nhs.uk``, ``legislation.gov.uk`` ...) are kept even with a path, since
  respondents cite legislation and guidance, unless they carry a query string,
  ``@`` or ``~``. Social-media handles without a URL (``@jane_s``) are not
  redacted.
* Phones: UK numbers only: ``+44``, ``0044`` or trunk ``0`` prefix, 9 or 10
  further digits (mobiles exactly 10), separated by spaces, dashes, dots or
  brackets. Short codes (999, 111, 0800 fragments) are not numbers.
* Postcodes: all formats incl. ``GIR 0AA``, with zero to two spaces, any case;
  lowercase ordinals such as ``m1 1st`` are not postcodes.
* NI numbers: two prefix letters obeying HMRC's rules (first letter not
  D F I Q U V, second not D F I O Q U V, not BG GB NK KN TN NT ZZ), six digits
  grouped in pairs or threes (spaces or dashes), suffix A-D. The suffix may be missing
  only when the prefix is upper case. With a suffix any two-letter prefix is
  matched (HMRC's never-issued ``QQ 12 34 56 C`` too): it is meant as an NI number.
* Addresses: a house number (1-3 digits, optional letter or range, optionally
  after "Flat 2," / "Apartment 3") followed by one to three capitalised words and
  a street word (Street/St, Road/Rd, Lane, Avenue/Ave, Close, Drive, Crescent,
  Gardens, Grove, Terrace, Place, Way, Court, Row, Mews, Walk, View, Rise ...),
  in title case or capitals. Not after "Section", "Clause", "Question" and such
  words, nor a 4-digit year; streets without a number, house names and addresses
  typed in lower case are not found. A few government addresses cited as such
  (``10 Downing Street``, ``1 Horse Guards Road`` ...) are kept.
* Names: metadata names (full name anywhere, case-insensitive; a first or last
  name of 3+ letters alone when capitalised in the text), a title (Mr, Dr,
  Cllr ...) with the following 1-2 capitalised words (the title is part of the
  span), a sign-off ("Kind regards, Jane Smith") ending a line, "My name is X",
  "I am X Y" / "I'm X" when X is a known first name (or "I am X Y," with two
  name-like words), a relation ("my neighbour Jane Smith"), and a known first
  name followed by a capitalised surname. Names found by these rules are also
  redacted where they recur in the same text. Words such as "Concerned",
  "Chancellor", "Council" or "Street" stop a name. Names written entirely in
  lower case are found only after "my name is" or from the metadata.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "KINDS",
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
ADDRESS = "ADDRESS"
KINDS: tuple[str, ...] = (EMAIL, PHONE, POSTCODE, NI_NUMBER, URL, NAME, ADDRESS)

# When spans of different kinds overlap, the earlier kind in this order wins.
_PRIORITY = {EMAIL: 0, URL: 1, NI_NUMBER: 2, PHONE: 3, POSTCODE: 4, ADDRESS: 5, NAME: 6}


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


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _boundary_before(text: str, i: int) -> bool:
    return i == 0 or not _is_word_char(text[i - 1])


def _boundary_after(text: str, i: int) -> bool:
    return i >= len(text) or not _is_word_char(text[i])


# --------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"[A-Za-z0-9][\w.+'%-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_BRACKET_AT = r"(?:\[at\]|\(at\)|\{at\}|<at>)"
_DOT = r"(?:\[dot\]|\(dot\)|\{dot\}|<dot>|[ \t]+dot[ \t]+|\.)"
_SPELLED_DOT = r"(?:[ \t]+dot[ \t]+)"
_TLD = r"(?:com|org|net|uk|ie|eu|io|me|info|gov|ac|co|edu)"
# Obfuscated forms, matched on the lower-cased text:
# "jane.smith [at] example [dot] org", "jane at example dot com".
_EMAIL_OBFUSCATED_RE = re.compile(
    r"(?<![\w.+-])[a-z0-9][\w+-]*(?:(?:\.|\[dot\]|\(dot\)|\{dot\})[\w+-]+)*"
    rf"(?:[ \t]*{_BRACKET_AT}[ \t]*[a-z0-9-]+(?:[ \t]*{_DOT}[ \t]*[a-z0-9-]+)*"
    rf"[ \t]*{_DOT}[ \t]*{_TLD}"
    rf"|[ \t]+at[ \t]+[a-z0-9-]+(?:{_SPELLED_DOT}[a-z0-9-]+)*{_SPELLED_DOT}{_TLD})\b"
)


def _email_spans(text: str, lowered: str, out: list[Span]) -> None:
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            start = m.start()
            # the local part must not continue to the left (regex has no lookbehind)
            if start and (text[start - 1].isalnum() or text[start - 1] in "._+'-"):
                continue
            out.append(Span(start, m.end(), EMAIL))
    if "at]" in lowered or "at)" in lowered or "at}" in lowered or " dot " in lowered:
        for m in _EMAIL_OBFUSCATED_RE.finditer(lowered):
            out.append(Span(m.start(), m.end(), EMAIL))


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------

_URL_TLDS = "com|org|net|uk|io|me|info|biz|eu|ie|us|co|tv|ly|app|dev|blog|site|online|page|gl"
_URL_HINT_RE = re.compile(rf"https?://|www\.|\.(?:{_URL_TLDS})(?::[0-9]+)?/")
_URL_RE = re.compile(
    r"(?:\b(?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]+"
    r"|(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    rf"(?:{_URL_TLDS})"
    r"(?::\d{2,5})?/[^\s<>\"'\[\]{}|\\^`]*)"
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
    "nhs.uk",
    "police.uk",
    "europa.eu",
    "ico.org.uk",
    "ofcom.org.uk",
)


def _url_is_personal(url: str) -> bool:
    rest = url.split("://", 1)[1] if "://" in url else url
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


def _url_spans(lowered: str, out: list[Span]) -> None:
    # matched on the lower-cased text: same offsets, case-insensitive for free
    if _URL_HINT_RE.search(lowered) is None:
        return
    for m in _URL_RE.finditer(lowered):
        start = m.start()
        url = m.group()
        while url and url[-1] in _URL_TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if _url_is_personal(url):
            out.append(Span(start, start + len(url), URL))


# --------------------------------------------------------------------------
# Phone numbers, NI numbers, postcodes (all need digits)
# --------------------------------------------------------------------------

_DIGIT_RE = re.compile(r"[0-9]")

# UK phone numbers. The national significant number (NSN, without the trunk 0)
# has 9 or 10 digits and starts with 1, 2, 3, 5, 7, 8 or 9; digits may be
# separated by spaces, dashes, dots or a closing bracket.
_PHONE_RE = re.compile(
    r"(?:\+[ \t]?44\)?[ \t.-]?(?:\([ \t]?0[ \t]?\)[ \t.-]?|0)?\(?"
    r"|\(\+44\)[ \t.-]?(?:\([ \t]?0[ \t]?\)[ \t.-]?|0)?"
    r"|0044[ \t.-]?(?:\([ \t]?0[ \t]?\)[ \t.-]?|0)?\(?"
    r"|\(0|0[ \t]?|O)"
    r"[1-35789](?:[ \t.)-]{0,2}[0-9]){8,9}"
    r"(?![0-9/])"
)
_NON_DIGIT_RE = re.compile(r"[^0-9]")
_DIGIT_GROUP_RE = re.compile(r"[0-9]+")


def _phone_spans(text: str, out: list[Span]) -> None:
    for m in _PHONE_RE.finditer(text):
        start = m.start()
        value = m.group()
        if start and (_is_word_char(text[start - 1]) or text[start - 1] in "+/."):
            continue
        digits = _NON_DIGIT_RE.sub("", value)
        if len(_DIGIT_GROUP_RE.findall(value)) > 6:  # "0 1 2 3 4 5 6 7 8 9": a list
            continue
        if value[0] == "O":  # letter O typed for the trunk zero
            digits = "0" + digits
        if value[0] == "+" or value.startswith("(+"):
            nsn = digits[2:]
        elif digits.startswith("0044"):
            nsn = digits[4:]
        else:
            nsn = digits[1:]
        if nsn.startswith("0"):  # "+44 (0)20 ..." keeps the trunk zero
            nsn = nsn[1:]
        if not 9 <= len(nsn) <= 10 or nsn[0] == "0":
            continue
        if nsn[0] == "7" and len(nsn) != 10:
            continue
        out.append(Span(start, m.end(), PHONE))


# Candidates: six digits (any grouping); the prefix letters and the suffix are
# checked in Python, which keeps the regex digit-anchored and fast.
_NI_DIGITS_RE = re.compile(
    r"[0-9][0-9](?:[ \t-]?[0-9][0-9][ \t-]?[0-9][0-9]|[0-9][ \t-][0-9][0-9][0-9])"
)
_NI_FIRST = frozenset("ABCEGHJKLMNOPRSTWXYZ")
_NI_SECOND = frozenset("ABCEGHJKLMNPRSTWXYZ")
_NI_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_SEPARATORS = " \t-"


def _ni_spans(text: str, out: list[Span]) -> None:
    n = len(text)
    for m in _NI_DIGITS_RE.finditer(text):
        j, end = m.start(), m.end()
        k = j - 1 if j and text[j - 1] in _SEPARATORS else j
        if k < 2:
            continue
        prefix = text[k - 2 : k]
        up = prefix.upper()
        if not prefix.isascii() or not prefix.isalpha() or not _boundary_before(text, k - 2):
            continue
        if end < n and text[end].isdigit():
            continue
        issued = up[0] in _NI_FIRST and up[1] in _NI_SECOND and up not in _NI_BAD_PREFIXES
        # optional suffix A-D, after an optional separator
        e = end + 1 if end < n and text[end] in _SEPARATORS else end
        if e < n and text[e] in "ABCDabcd" and _boundary_after(text, e + 1):
            # With the suffix the shape is unmistakable: redact even prefixes HMRC never
            # issues (QQ..., mistyped numbers): they were still meant as NI numbers.
            out.append(Span(k - 2, e + 1, NI_NUMBER))
        elif issued and prefix.isupper() and _boundary_after(text, end):
            out.append(Span(k - 2, end, NI_NUMBER))


# Candidates are anchored on the first digit of the outward code (a letter must
# precede it); the whole candidate is then checked against the strict format.
_POSTCODE_CAND_RE = re.compile(
    r"[0-9](?<=[A-Za-z][0-9])[0-9A-Za-z]?[ \t]{0,2}[0-9][A-Za-z]{2}(?![A-Za-z0-9])"
)
_POSTCODE_STRICT_RE = re.compile(
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[ \t]{0,2}[0-9][ABD-HJLNP-UW-Z]{2}"
)
_GIR_RE = re.compile(r"(?<![A-Za-z0-9])[Gg][Ii][Rr][ \t]{0,2}0[Aa][Aa](?![A-Za-z0-9])")
_ORDINAL_INWARD = frozenset({"st", "nd", "rd", "th"})


def _postcode_spans(text: str, out: list[Span]) -> None:
    for m in _POSTCODE_CAND_RE.finditer(text):
        d = m.start()
        s = d - 1
        if s >= 1 and text[s - 1].isascii() and text[s - 1].isalpha():
            s -= 1
        if not _boundary_before(text, s):
            continue
        value = text[s : m.end()]
        if value[-2:] in _ORDINAL_INWARD:  # "m1 1st": lowercase ordinal, not a postcode
            continue
        if _POSTCODE_STRICT_RE.fullmatch(value.upper()) is None:
            continue
        out.append(Span(s, m.end(), POSTCODE))
    if "0" in text and ("GIR" in text or "gir" in text):
        for m in _GIR_RE.finditer(text):
            out.append(Span(m.start(), m.end(), POSTCODE))


# --------------------------------------------------------------------------
# Street addresses (need a digit: the house number)
# --------------------------------------------------------------------------

_STREET_WORDS = (
    "Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Close|Drive|Crescent|Cres|Gardens|Gdns|Grove"
    "|Terrace|Tce|Place|Pl|Way|Court|Ct|Row|Mews|Walk|View|Rise|Square|Sq|Parade|Hill|Wynd"
)
_APOSTROPHES = "'\u2019"
_ADDRESS_WORD = rf"[A-Z][a-z{_APOSTROPHES}]+(?:-[A-Z][a-z{_APOSTROPHES}]+)*"
# Digit-anchored; the boundary before the number and the word before it are checked in
# Python. Title case, or the whole address in capitals.
_ADDRESS_RE = re.compile(
    r"[0-9](?<![\w£$.,/:+-][0-9])[0-9]{0,2}(?![0-9])[A-Za-z]?"
    r"(?:[ \t]?-[ \t]?[0-9]{1,3}[A-Za-z]?)?,?[ \t]+(?=[A-Z])"
    rf"(?:(?:{_ADDRESS_WORD}[ \t]+){{1,3}}(?:{_STREET_WORDS})"
    rf"|(?:[A-Z][A-Z{_APOSTROPHES}]+[ \t]+){{1,3}}(?:{_STREET_WORDS.upper()}))"
    rf"(?![\w{_APOSTROPHES}-])"
)
# Words after which a number is not a house number ("Section 12 Street-works").
_NOT_HOUSE_AFTER_TEXT = """
section sections clause clauses paragraph paragraphs para article articles chapter chapters
part parts schedule schedules question questions page pages proposal proposals annex
regulation regulations rule rules item items point points figure table step stage phase
option options route routes junction platform year years room floor level over around about
nearly almost some only under than
"""
_NOT_HOUSE_AFTER = frozenset(_NOT_HOUSE_AFTER_TEXT.split())
_FLAT_BEFORE_RE = re.compile(
    r"(?:flat|apartment|apt|unit|suite)\.?[ \t]*[0-9]{1,4}[a-z]?[ \t]*,?[ \t]*$"
)
_PUBLIC_ADDRESSES = frozenset(
    {
        "10 downing street",
        "11 downing street",
        "1 horse guards road",
        "2 marsham street",
        "100 parliament street",
        "102 petty france",
        "1 victoria street",
        "39 victoria street",
    }
)


def _address_spans(text: str, lowered: str, out: list[Span]) -> None:
    for m in _ADDRESS_RE.finditer(text):
        start, end = m.start(), m.end()
        if start:
            before = text[start - 1]
            if _is_word_char(before) or before in "£$.,/:-+":
                continue
        if lowered[start:end] in _PUBLIC_ADDRESSES:
            continue
        head = lowered[max(0, start - 24) : start]
        flat = _FLAT_BEFORE_RE.search(head)
        if flat is not None:
            start -= len(head) - flat.start()
        else:
            words = head.split()
            if words and words[-1].strip("(,") in _NOT_HOUSE_AFTER:
                continue
        out.append(Span(start, end, ADDRESS))


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_RSQ = "\u2019"  # right single quotation mark, as in O\u2019Brien or I\u2019m
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = (
    rf"(?:Mc|Mac|O'|O{_RSQ}|D'|D{_RSQ}|De|Di|Le|La|Van|Von|Fitz)?"
    rf"[{_UP}][{_LO}]+(?:['{_RSQ}-](?:O'|O{_RSQ}|Mc|Mac)?[{_UP}][{_LO}]+)?(?!\w)"
)
_INITIALS = rf"(?:[{_UP}]\.[ \t]?){{1,3}}"
_TITLES = (
    "Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Rev|Revd|Reverend|Cllr|Councillor"
    "|Lord|Lady|Baroness|Baron"
)
_TITLE = rf"(?:{_TITLES})"
# person: optional initials, then 1-3 name words
_PERSON = rf"(?:{_INITIALS})?{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"

# Title + 1-2 words. Literal-first (no leading \b): the boundary is checked in Python.
_TITLE_RE = re.compile(
    rf"{_TITLE}\.?[ \t]+(?P<p>(?:{_INITIALS})?{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)"
)

# Sign-off keywords, searched in the lower-cased tail of the text (a flat
# alternation of literals keeps the scan fast); the words before the keyword
# ("kind", "yours" ...) and the context are checked in Python.
_SIGNOFF_RE = re.compile(
    r"regards|wishes|sincerely|faithfully|truly|thanks|thank[ \t]+you|cheers|best|respectfully"
)
_SIGNOFF_MODIFIER_RE = re.compile(
    r"(?:(?:with[ \t]+)?(?:kind|kindest|best|warm|warmest|many)|yours|all[ \t]+the)[ \t]*$"
)
# after the keyword (anchored): punctuation, line breaks, optional title, the name
# and then the end of the line (or a comma / bracket: "Jane Smith, Chair")
_SIGNOFF_NAME_RE = re.compile(
    rf"(?:[ \t]+again)?[ \t]*[,.:!-]?[ \t]*(?:\r?\n[ \t]*)*(?:{_TITLE}\.?[ \t]+)?(?P<p>{_PERSON})"
    rf"(?=[ \t]*[.!]?[ \t]*(?:\r?\n|$)|[ \t]*[,(])"
)
_SIGNOFF_UPPER_RE = re.compile(
    r"(?:[ \t]+again)?[ \t]*[,.:!-]?[ \t]*(?:\r?\n[ \t]*)*"
    r"(?P<p>[A-Z][A-Z'-]+(?:[ \t]+[A-Z][A-Z'-]+){0,2})(?=[ \t]*[.!]?[ \t]*(?:\r?\n|$))"
)
_SIGNOFF_TAIL = 240  # sign-offs are looked for in the last characters only

# Introductions, searched in the lower-cased text; contexts checked in Python.
_INTRO_RE = re.compile(
    r"my[ \t]+name(?:[ \t]+is|'s)|called|by|is[ \t]+from|name[ \t]*:|from[ \t]*:|signed[ \t]*:"
)
_INTRO_CONTEXT = {
    "called": ("i am", "i'm", "i\u2019m"),
    "by": ("submitted", "written", "sent"),
    "is from": ("this response", "this submission", "this letter"),
}
_INTRO_NAME_RE = re.compile(rf"[ \t]*[,:-]?[ \t]*(?:{_TITLE}\.?[ \t]+)?(?P<p>{_PERSON})")
_LOWER_NAME_RE = re.compile(r"[ \t]*(?P<p>[a-z][a-z'-]+(?:[ \t]+[a-z][a-z'-]+)?)")

# Relations: "my neighbour Jane Smith", "our MP, Tom Jones" (lower-cased search;
# the possessive first keeps the literal prefix scan fast).
_RELATION_RE = re.compile(
    r"(?:my|our|his|her|their)[ \t]+(?:husband|wife|partner|son|daughter|mother|father|mum"
    r"|dad|brother|sister|neighbour|neighbor|friend|colleague|carer|grandson|granddaughter"
    r"|grandmother|grandfather|uncle|aunt|cousin|boss|manager|landlord|landlady|mp|gp"
    r"|councillor|advocate|caseworker|case[ \t]+worker|social[ \t]+worker)"
    r"(?=[ \t]*,?[ \t]+)"
)
_RELATION_NAME_RE = re.compile(rf"[ \t]*,?[ \t]*(?P<p>{_PERSON})")

_IAM_RE = re.compile(rf"I(?:[ \t]+am|'m|{_RSQ}m|,)[ \t]+(?P<p>{_PERSON})")
_IAM_FOLLOW_RE = re.compile(r"[ \t]*(?:[,;(.]|-|and\b|from\b|of\b|who\b|$)")

# any capitalised word (first names are looked up in a set)
_CAP_NAME_RE = re.compile(rf"[{_UP}][{_LO}]+(?!\w)")
_SURNAME_RE = re.compile(rf"[ \t]+(?P<s>(?:{_INITIALS})?{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)")

_WORD_SPLIT_RE = re.compile(r"[ \t]+")
_CAP_WORD_RE = re.compile(rf"[ \t]+(?P<w>[{_UP}][{_LO}]+)")

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
Palace Gate Gardens Wharf Dock Docks Pier Cross Circus Fields Marshes Downs Hills Vale Wells
Ward Wards Unit Units Suite Wing County Town City Village Parish Borough District Region
Constituency
Act Acts Bill Regulations Regulation Directive Agreement Strategy Framework Report Review
Inquiry Index Scheme Fund Award Prize Lecture Principle Principles Test Rule Rules Law Laws
Code Charter Convention Treaty Order Plan Policy Standard Standards Guidance Register
Foundation Initiative Fellowship Memorial Institution Academy Collective Cooperative
Co-operative Federation Guild League Movement Organisation Organization Party Press Media News
Times Guardian Telegraph Post Mail Herald Gazette Journal Review Magazine Radio Television
"""
_ORG_WORDS = frozenset(_ORG_WORDS_TEXT.split())


# Organisation / place words that are also common surnames: accepted after a
# first name unless the first name is itself a common place name ("Victoria Park").
_SURNAME_ORG_TEXT = (
    "Hall Hill Green Wood Park Lane Church Bridge Marsh Moor Castle Court Street Mills Heath "
    "Abbey Bay Grove Banks Field Fields Brook Rivers Walker Parker Fisher Palmer Porter Ward"
)
_SURNAME_ORG_WORDS = frozenset(_SURNAME_ORG_TEXT.split())
_PLACE_FIRST_TEXT = (
    "Victoria Albert Alexandra Elizabeth George Stanley Charlotte Florence Richmond Kingsley "
    "Clarence Regent Anne Mary James Jack Henry William Edward Charles"
)
_PLACE_FIRST_NAMES = frozenset(_PLACE_FIRST_TEXT.split())
# First names that alone are as often a word, a place or a saint as a person.
_AMBIGUOUS_SINGLE_TEXT = (
    "Frank Max Eve Dean Lee Victoria Elizabeth George Albert Charles Jack Kay Carol Dale Nick "
    "Sally Bob Jean Hazel Florence Stanley Alexandra Robin Lynn Ross Lewis Kerry Clare Angus "
    "Norman Mohammed Mohammad Mohamed Muhammad Adam Noah Isaac Joseph Mary Louis Lawrence Ben"
)
_AMBIGUOUS_SINGLE_NAMES = frozenset(_AMBIGUOUS_SINGLE_TEXT.split())
_ADJECTIVE_SUFFIXES = ("ly", "ed", "ing", "ful", "ous", "ive", "ish", "able", "ible", "less", "ent")
_LOWER_STOP_TEXT = (
    "withheld redacted irrelevant unimportant confidential private anonymous none n/a "
    "not is was and i im i'm the a an of in on at to for from with by as"
)
_LOWER_STOP = frozenset(w.lower() for w in _STOP_WORDS) | frozenset(_LOWER_STOP_TEXT.split())


def _is_stop(word: str) -> bool:
    return word in _STOP_WORDS or word in _ORG_WORDS


def _name_like(word: str) -> bool:
    """A capitalised word that could be a name (not a stop word, not adjective-shaped)."""
    if _is_stop(word):
        return False
    return len(word) <= 4 or word in _FIRST_NAMES or not word.endswith(_ADJECTIVE_SUFFIXES)


def _trim_person(
    text: str,
    start: int,
    end: int,
    *,
    strict: bool,
    first_known: bool = False,
    person_context: bool = False,
) -> tuple[int, int] | None:
    """Trim a captured name to its name words.

    Leading initials are kept. Capture stops at the first stop word. With
    ``strict`` (contexts such as sign-offs, where an organisation is as likely
    as a person) an organisation word rejects the whole capture, except a
    surname-like one ("Hall", "Green") after a known first name or initials,
    or after any name word when the context announces a person
    (``person_context``: sign-offs, "my name is", "my neighbour").
    """
    chunk = text[start:end]
    pos = 0
    last_end = 0
    words = 0
    initials = False
    for piece in _WORD_SPLIT_RE.split(chunk):
        if not piece:
            continue
        idx = chunk.find(piece, pos)
        pos = idx + len(piece)
        if "." in piece and len(piece) <= 6 and all(c.isupper() or c == "." for c in piece):
            last_end = pos  # initials like "J." or "J.R."
            initials = True
            continue
        if piece in _ORG_WORDS:
            surname_ok = piece in _SURNAME_ORG_WORDS and (
                first_known or initials or (person_context and words >= 1)
            )
            if not surname_ok:
                if strict:
                    return None
                break
        elif piece in _STOP_WORDS:
            break
        last_end = pos
        words += 1
        first_known = first_known or (words == 1 and piece in _FIRST_NAMES)
    if words == 0:
        return None
    return start, start + last_end


def _title_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _TITLE_RE.finditer(text):
        if not _boundary_before(text, m.start()):
            continue
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=False, first_known=True)
        if trimmed is not None:
            out.append((m.start(), trimmed[1]))


def _signoff_spans(text: str, lowered: str, out: list[tuple[int, int]]) -> None:
    offset = max(0, len(text) - _SIGNOFF_TAIL)
    for m in _SIGNOFF_RE.finditer(lowered, offset):
        start, end = m.start(), m.end()
        if not _boundary_before(lowered, start) or not _boundary_after(lowered, end):
            continue
        nm = _SIGNOFF_NAME_RE.match(text, end) or _SIGNOFF_UPPER_RE.match(text, end)
        if nm is None:
            continue
        # the phrase ("Kind regards", "Yours sincerely") must open a line or
        # follow the end of a sentence
        line_start = max(lowered.rfind("\n", 0, start) + 1, start - 40)
        before = lowered[line_start:start]
        mod = _SIGNOFF_MODIFIER_RE.search(before)
        if mod is not None:
            before = before[: mod.start()]
        before = before.rstrip(" \t")
        if before and before[-1] not in ".!?;)":
            continue
        p_start, p_end = nm.start("p"), nm.end("p")
        if nm.re is _SIGNOFF_UPPER_RE:
            if _upper_name_ok(text[p_start:p_end].split()):
                out.append((p_start, p_end))
            continue
        trimmed = _trim_person(text, p_start, p_end, strict=True, person_context=True)
        if trimmed is not None:
            out.append(trimmed)


def _upper_name_ok(words: list[str]) -> bool:
    """An all-capitals sign-off name ("JANE SMITH"), not an acronym or an organisation."""
    if all(len(w) <= 3 for w in words):
        return False
    for i, word in enumerate(words):
        cap = word.capitalize()
        if len(word) < 2 or not any(c in "AEIOUY" for c in word) or cap in _STOP_WORDS:
            return False
        if cap in _ORG_WORDS and not (i and cap in _SURNAME_ORG_WORDS):
            return False
    return True


def _intro_spans(text: str, lowered: str, out: list[tuple[int, int]]) -> None:
    for m in _INTRO_RE.finditer(lowered):
        start = m.start()
        if not _boundary_before(lowered, start):
            continue
        if lowered[m.end() - 1].isalpha() and not _boundary_after(lowered, m.end()):
            continue
        key = " ".join(m.group().split())
        if key in _INTRO_CONTEXT:
            before = lowered[max(0, start - 20) : start].rstrip(" \t")
            if not before.endswith(_INTRO_CONTEXT[key]):
                continue
        nm = _INTRO_NAME_RE.match(text, m.end())
        if nm is not None:
            trimmed = _trim_person(
                text, nm.start("p"), nm.end("p"), strict=True, person_context=True
            )
            if trimmed is not None:
                out.append(trimmed)
                continue
        if lowered.startswith("my", m.start()):
            # "my name is jane smith": lower case, first word must not be a common word
            lm = _LOWER_NAME_RE.match(text, m.end())
            if lm is None:
                continue
            words = lm.group("p").split()
            keep = 0
            for w in words:
                if w in _LOWER_STOP or (w.endswith(_ADJECTIVE_SUFFIXES) and len(w) > 4):
                    break
                keep += 1
            if keep:
                start = lm.start("p")
                out.append((start, start + len(" ".join(words[:keep]))))


def _relation_spans(text: str, lowered: str, out: list[tuple[int, int]]) -> None:
    for m in _RELATION_RE.finditer(lowered):
        if not _boundary_before(lowered, m.start()):
            continue
        nm = _RELATION_NAME_RE.match(text, m.end())
        if nm is None:
            continue
        trimmed = _trim_person(text, nm.start("p"), nm.end("p"), strict=True, person_context=True)
        if trimmed is None:
            continue
        words = text[trimmed[0] : trimmed[1]].split()
        if _name_like(words[0]) and all(
            _name_like(w) or w in _SURNAME_ORG_WORDS for w in words[1:]
        ):
            out.append(trimmed)


def _iam_spans(text: str, out: list[tuple[int, int]]) -> None:
    for m in _IAM_RE.finditer(text):
        if not _boundary_before(text, m.start()):
            continue
        words = _WORD_SPLIT_RE.split(m.group("p"))
        first = words[0]
        known = first in _FIRST_NAMES or (len(first) <= 3 and first.endswith("."))
        trimmed = _trim_person(text, m.start("p"), m.end("p"), strict=True, first_known=known)
        if trimmed is None:
            continue
        if not known:
            # an unknown word: accept only two name-like words followed by ", and ( ."
            kept = text[trimmed[0] : trimmed[1]].split()
            if len(kept) < 2 or not all(_name_like(w) for w in kept):
                continue
            if _IAM_FOLLOW_RE.match(text, trimmed[1]) is None:
                continue
        out.append(trimmed)


def _first_name_spans(text: str, out: list[tuple[int, int]]) -> None:
    """A known first name, with the capitalised surname that follows it if any.

    A first name alone counts too ("Thanks to Chris", "Scott was great"),
    except names that are also common words or places on their own (Frank,
    Max, Victoria, Lee ...) and saints ("St George").
    """
    for m in _CAP_NAME_RE.finditer(text):
        first = m.group()
        if first not in _FIRST_NAMES:
            continue
        start = m.start()
        if start and (_is_word_char(text[start - 1]) or text[start - 1] in "'-" + _RSQ):
            continue
        sm = _SURNAME_RE.match(text, m.end())
        if sm is not None:
            rest = sm.group("s").split()
            if rest[0] in _ORG_WORDS and (
                rest[0] not in _SURNAME_ORG_WORDS or first in _PLACE_FIRST_NAMES
            ):
                continue  # "Victoria Station", "Elizabeth Line"
            if any(w in _ORG_WORDS for w in rest[1:]):  # "Lynn Jarrett Ward": a place
                continue
            trimmed = _trim_person(text, sm.start("s"), sm.end("s"), strict=False, first_known=True)
            if trimmed is not None:
                # a following organisation / place word: "Ellen Wilkinson School"
                nxt = _CAP_WORD_RE.match(text, trimmed[1])
                if nxt is None or nxt.group("w") not in _ORG_WORDS:
                    out.append((start, trimmed[1]))
                continue
        if first in _AMBIGUOUS_SINGLE_NAMES:
            continue
        before = text[max(0, start - 7) : start]
        if before.endswith(("St ", "St. ", "Saint ")):
            continue
        out.append((start, m.end()))


def _find_word(text: str, word: str, out: list[tuple[int, int]]) -> None:
    """Case-sensitive whole-word occurrences of ``word`` (plain string search)."""
    n = len(word)
    i = text.find(word)
    while i >= 0:
        if _boundary_before(text, i) and _boundary_after(text, i + n):
            out.append((i, i + n))
        i = text.find(word, i + 1)


def _propagate(text: str, found: list[tuple[int, int]], out: list[tuple[int, int]]) -> None:
    """Redact other occurrences of names already detected in this text."""
    seen: set[str] = set()
    for start, end in found:
        words = [w for w in _WORD_SPLIT_RE.split(text[start:end]) if w]
        while words and words[0].rstrip(".") in _STOP_WORDS:  # drop a leading title
            words = words[1:]
        candidates = [" ".join(words)] if len(words) > 1 else []
        candidates += [w for w in words if len(w) >= 3 and w.isalpha() and w[0].isupper()]
        for c in candidates:
            if c not in seen and c not in _STOP_WORDS:
                seen.add(c)
                _find_word(text, c, out)


@lru_cache(maxsize=4096)
def _metadata_plan(
    names: tuple[str, ...],
) -> tuple[tuple[tuple[str, re.Pattern[str]], ...], tuple[str, ...]]:
    """For metadata names: (first word, full-name pattern) pairs and single parts."""
    full: dict[str, tuple[str, re.Pattern[str]]] = {}
    parts: set[str] = set()
    for raw in names:
        words = raw.split()
        if not words or not any(c.isalpha() for c in raw):
            continue
        key = " ".join(words).lower()
        if key not in full:
            pattern = re.compile(r"[ \t\r\n]+".join(re.escape(w) for w in words), re.IGNORECASE)
            full[key] = (words[0].lower(), pattern)
        named = [w.strip(".,") for w in words]
        named = [w for w in named if w and w not in _STOP_WORDS]
        if len(named) >= 2:
            parts.update(w.lower() for w in named if len(w) >= 3 and w.isalpha())
    return tuple(full.values()), tuple(sorted(parts))


def _metadata_spans(
    text: str, lowered: str, names: tuple[str, ...], out: list[tuple[int, int]]
) -> None:
    full, parts = _metadata_plan(names)
    for first, pattern in full:
        i = lowered.find(first)
        if i < 0:
            continue
        for m in pattern.finditer(text, i):
            s, e = m.start(), m.end()
            if (
                _boundary_before(text, s)
                and _boundary_after(text, e)
                and (s == 0 or text[s - 1] not in "@.")
            ):
                out.append((s, e))
    for part in parts:
        n = len(part)
        i = lowered.find(part)
        while i >= 0:
            if (
                text[i].isupper()
                and _boundary_before(text, i)
                and _boundary_after(text, i + n)
                and (i == 0 or text[i - 1] not in "@.")
                and (i + n >= len(text) or text[i + n] != "@")
            ):
                out.append((i, i + n))
            i = lowered.find(part, i + 1)


def _name_spans(text: str, lowered: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    _title_spans(text, found)
    _signoff_spans(text, lowered, found)
    _intro_spans(text, lowered, found)
    _relation_spans(text, lowered, found)
    _iam_spans(text, found)
    _first_name_spans(text, found)
    if found:
        _propagate(text, list(found), found)
    if names:
        _metadata_spans(text, lowered, names, found)
    return found


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


_ALL_KINDS = frozenset(KINDS)


def _normalise_kinds(kinds: Collection[str] | None) -> frozenset[str]:
    if kinds is None:
        return _ALL_KINDS
    if isinstance(kinds, str):
        kinds = (kinds,)
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
        for i, k in enumerate(kept):
            if span.start < k.end and k.start < span.end:
                if k.kind == span.kind:
                    kept[i] = Span(min(k.start, span.start), max(k.end, span.end), k.kind)
                break
        else:
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
    lowered = text.lower()
    if len(lowered) != len(text):  # rare Unicode case change of length: keep offsets exact
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    if EMAIL in kinds:
        _email_spans(text, lowered, spans)
    if URL in kinds and "/" in text:
        _url_spans(lowered, spans)
    if _DIGIT_RE.search(text) is not None:
        if PHONE in kinds:
            _phone_spans(text, spans)
        if NI_NUMBER in kinds:
            _ni_spans(text, spans)
        if POSTCODE in kinds:
            _postcode_spans(text, spans)
        if ADDRESS in kinds:
            _address_spans(text, lowered, spans)
    if NAME in kinds:
        found = _name_spans(text, lowered, names)
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

    ``names``: the respondent's own name and organisation contact names (people)
    from the metadata; redacted wherever they appear. ``kinds``: restrict to
    some of :data:`KINDS` (default all). ``use_ner``: add PERSON entities from
    an installed ``en_core_web_sm`` (ignored with a warning when not installed).
    """
    if not use_ner:
        spans = _detect(text, _clean_names(names), _normalise_kinds(kinds), None)
        return Redaction(_apply(text, spans), spans)
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
    return [
        [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PERSON"]
        for doc in nlp.pipe(texts, batch_size=256)
    ]


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


def __getattr__(name: str) -> Any:
    # The scikit-learn transformer lives in its own module: importing scikit-learn costs
    # seconds, and the service's intake path only needs redact() and redact_many().
    if name == "PersonalDataRedactor":
        from analysis.redaction_estimator import PersonalDataRedactor

        return PersonalDataRedactor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
