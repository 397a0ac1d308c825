"""Seeded generator of a labelled set for campaign (near-duplicate) detection.

The set mixes, on data-sharing topics that share one vocabulary:

* campaign letters: several template letters of 80-250 words, each sent by 20-300
  respondents with realistic edits (changed greeting or sign-off, an own sentence
  inserted, a sentence deleted, typos, paragraphs reordered, a name added), and
  some sent unchanged;
* hard cases: campaigns whose template is derived from another campaign's
  template (about half of the sentences shared), which must stay separate;
* thousands of independent answers written from the same phrase pools;
* short generic answers ("I agree.", "No comment") repeated many times, and a
  few respondents who submitted the same answer twice: none of these are
  campaigns.

``generate(n, seed)`` returns a :class:`CaseSet` with gold campaign ids (-1 for
texts outside any campaign) and, per member, the own sentences inserted into the
template, which ``added_text`` should recover.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

DATA = [
    "GP records",
    "hospital records",
    "patient data",
    "health records",
    "pupil records",
    "school attendance data",
    "smart meter readings",
    "energy usage data",
    "bank transaction data",
    "tax records",
    "benefit claim data",
    "location data",
    "CCTV footage",
    "census returns",
    "police intelligence",
    "DNA profiles",
    "social care records",
    "mental health records",
    "prescription data",
    "travel card data",
]
RECIPIENTS = [
    "private companies",
    "researchers",
    "insurers",
    "the Home Office",
    "local councils",
    "the police",
    "technology firms",
    "overseas partners",
    "pharmaceutical companies",
    "data brokers",
    "other government departments",
    "universities",
    "employers",
    "credit reference agencies",
    "commercial partners",
]
STANCE = [
    "strongly oppose",
    "oppose",
    "support",
    "broadly support",
    "have serious doubts about",
    "cautiously welcome",
    "cannot support",
    "am in favour of",
    "object to",
    "have reservations about",
]
ACTION = [
    "share",
    "sell",
    "link",
    "pool",
    "make available",
    "pass on",
    "open up",
    "transfer",
]
CONCERN = [
    "people will lose trust in the service",
    "the data could be re-identified",
    "there is no real way to opt out",
    "the data will be kept for too long",
    "nobody will check how it is used",
    "it will be used for purposes people never agreed to",
    "vulnerable people will stop asking for help",
    "a single breach would expose millions of people",
    "the rules can be changed later without a vote",
    "companies will profit from public information",
    "people were never properly told about it",
    "the safeguards exist only on paper",
    "errors in the records will follow people for years",
    "minority groups will be targeted unfairly",
]
BENEFIT = [
    "research could find new treatments faster",
    "services could be planned much better",
    "fraud would be easier to detect",
    "people would not have to repeat their details",
    "waiting times could come down",
    "public money would be spent more wisely",
    "emergencies could be handled more quickly",
    "patterns of disease could be spotted early",
]
SAFEGUARD = [
    "a clear opt-out for everyone",
    "independent oversight",
    "a public register of every data sharing agreement",
    "strict limits on how long data is kept",
    "proper anonymisation",
    "explicit consent",
    "heavy fines for misuse",
    "regular published audits",
    "a ban on onward sale",
    "a trusted research environment",
    "a named person accountable for each dataset",
    "a right to see who has accessed my data",
]
ROLE = [
    "nurse",
    "teacher",
    "pensioner",
    "carer",
    "software developer",
    "small business owner",
    "parent of two",
    "student",
    "retired GP",
    "social worker",
    "pharmacist",
    "local councillor",
    "cancer patient",
    "volunteer",
    "researcher",
]
PLACE = [
    "Leeds",
    "Cardiff",
    "a small town in Cornwall",
    "Glasgow",
    "north London",
    "Norwich",
    "Belfast",
    "rural Shropshire",
    "Bristol",
    "Sheffield",
    "Swansea",
    "Newcastle",
    "Inverness",
    "Hull",
]
EXPERIENCE = [
    "how quickly information spreads once it leaves the system",
    "families refuse treatment because they feared their details would be passed on",
    "records that were wrong for years without anyone noticing",
    "good research that only happened because data was shared carefully",
    "people give up on services after a data breach",
    "how hard it is to find out who holds your information",
    "staff struggle with systems that do not talk to each other",
    "letters sent to the wrong address with sensitive details",
]
INTENSIFIER = ["", "really ", "honestly ", "genuinely ", "simply ", "frankly "]
NAMES = [
    "Jane Smith",
    "Tom Evans",
    "Priya Patel",
    "Mohammed Khan",
    "Sarah Jones",
    "David Brown",
    "Aisha Begum",
    "Chris O'Neill",
    "Emma Wilson",
    "Liam Murphy",
    "Grace Taylor",
    "Olu Adeyemi",
]
GREETINGS = [
    "Dear Sir or Madam,",
    "Dear Minister,",
    "To whom it may concern,",
    "Hello,",
    "Dear consultation team,",
    "Dear Secretary of State,",
]
SIGNOFFS = [
    "Yours faithfully,",
    "Yours sincerely,",
    "Kind regards,",
    "Regards,",
    "Thank you,",
    "Best wishes,",
]
SHORT_ANSWERS = [
    "I agree.",
    "No comment",
    "Yes",
    "No.",
    "Not sure",
    "I support this proposal.",
    "N/A",
    "I agree with the proposal.",
    "Strongly disagree.",
    "None.",
    "I have no further comments.",
    "Please see my answer above.",
]


OPENERS = [
    "",
    "",
    "",
    "In my view, ",
    "Frankly, ",
    "To be honest, ",
    "Overall, ",
    "On balance, ",
    "Personally, ",
    "For me, ",
    "Above all, ",
    "Put simply, ",
    "I would add that ",
    "First of all, ",
    "Equally, ",
    "Having read the document, ",
]
ADJ = [
    "acceptable",
    "wrong",
    "risky",
    "sensible",
    "dangerous",
    "overdue",
    "unfair",
    "reasonable",
    "premature",
    "worrying",
]
VERB_THINK = ["think", "believe", "feel", "am convinced", "would argue", "suspect"]
FRAMES = [
    "I {stance} the plan to {action} {data} with {rec}.",
    "my main worry is that {concern}.",
    "I {intens}{think} {safeguard} is needed before any {data} goes to {rec}.",
    "it is true that {benefit}, but {concern}.",
    "if {data} is shared with {rec}, {concern}.",
    "the proposal should include {safeguard} and {safeguard2} for {data}.",
    "sharing {data} with {rec} is {adj} unless the risk that {concern} is dealt with.",
    "I {intens}{think} {benefit} if {safeguard} is in place.",
    "nobody asked me whether my {data} could go to {rec}, and {concern}.",
    "the government must explain why {rec} need {data} at all.",
    "what happens to {data} once {rec} have it?",
    "I would only accept this with {safeguard}.",
    "{rec} should never see {data} without {safeguard}.",
    "the consultation barely mentions {data}, which is {adj}.",
    "there is a real chance that {concern}, and that worries me.",
    "we were promised {safeguard} last time and it never happened.",
    "I {stance} this because {concern}.",
    "giving {rec} access to {data} feels {adj} to me.",
    "my family would want {safeguard} before anything changes.",
    "for {data} the benefits are clear: {benefit}.",
    "please do not {action} {data} with {rec} until {safeguard} exists.",
    "I {intens}doubt that {rec} will respect any limits on {data}.",
    "how will anyone know if {rec} misuse {data}?",
    "the impact assessment ignores the fact that {concern}.",
    "I {stance} the idea for {data}, since {benefit}.",
    "the department has not shown that {benefit} by giving {data} to {rec}.",
    "any use of {data} by {rec} should be published in full.",
    "it would be {adj} to rush this when {concern}.",
]


def _sentence(r: random.Random) -> str:
    """One sentence from the shared phrase pools (many combinations)."""
    frame = r.choice(FRAMES)
    s = frame.format(
        stance=r.choice(STANCE),
        action=r.choice(ACTION),
        data=r.choice(DATA),
        rec=r.choice(RECIPIENTS),
        concern=r.choice(CONCERN),
        benefit=r.choice(BENEFIT),
        safeguard=r.choice(SAFEGUARD),
        safeguard2=r.choice(SAFEGUARD),
        intens=r.choice(INTENSIFIER),
        think=r.choice(VERB_THINK),
        adj=r.choice(ADJ),
    )
    s = r.choice(OPENERS) + s
    return s[0].upper() + s[1:]


def _own_sentence(r: random.Random) -> str:
    """A personal sentence a respondent adds to a template."""
    kind = r.randrange(3)
    if kind == 0:
        return f"As a {r.choice(ROLE)} in {r.choice(PLACE)}, I have seen {r.choice(EXPERIENCE)}."
    if kind == 1:
        return (
            f"Speaking as a {r.choice(ROLE)}, my own experience is that "
            f"{r.choice(CONCERN)} and {r.choice(BENEFIT)}."
        )
    return (
        f"In {r.choice(PLACE)} we have already seen {r.choice(EXPERIENCE)}, "
        f"so I ask you to require {r.choice(SAFEGUARD)}."
    )


def _answer(r: random.Random) -> str:
    """An independent answer of about 300-800 characters."""
    n = r.choice([3, 3, 4, 4, 5, 5, 6, 7])
    parts = [_sentence(r) for _ in range(n)]
    if r.random() < 0.3:
        parts.insert(r.randrange(len(parts) + 1), _own_sentence(r))
    return " ".join(parts)


@dataclass
class Template:
    greeting: str
    paragraphs: list[list[str]]  # sentences per paragraph
    signoff: str

    def render(self) -> str:
        body = "\n\n".join(" ".join(p) for p in self.paragraphs)
        return f"{self.greeting}\n\n{body}\n\n{self.signoff}"

    def words(self) -> int:
        return len(self.render().split())


def _template(r: random.Random) -> Template:
    target = r.randint(80, 250)
    paragraphs: list[list[str]] = []
    t = Template(r.choice(GREETINGS[:3]), paragraphs, r.choice(SIGNOFFS[:2]))
    while True:
        para = [_sentence(r) for _ in range(r.randint(2, 4))]
        paragraphs.append(para)
        if t.words() >= target or len(paragraphs) >= 6:
            break
    while t.words() > 250 and sum(len(p) for p in paragraphs) > 4:
        longest = max(paragraphs, key=len)
        longest.pop()
    return t


def _derived(r: random.Random, base: Template, keep: float = 0.45) -> Template:
    """A different campaign's letter that reuses ``keep`` of ``base``'s sentences.

    Its character-shingle Jaccard similarity to ``base`` is typically 0.25-0.45:
    the two organisations share wording, but the letters are different.
    """
    where = [(i, j) for i, p in enumerate(base.paragraphs) for j in range(len(p))]
    kept = set(r.sample(where, max(1, round(keep * len(where)))))
    paragraphs = [
        [s if (i, j) in kept else _sentence(r) for j, s in enumerate(p)]
        for i, p in enumerate(base.paragraphs)
    ]
    return Template(r.choice(GREETINGS[:3]), paragraphs, r.choice(SIGNOFFS[:2]))


def _typo(r: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = r.randrange(1, len(word) - 2)
    op = r.randrange(3)
    if op == 0:  # swap
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:  # drop
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double


def _member(r: random.Random, t: Template, own_paragraph: float = 0.08) -> tuple[str, list[str]]:
    """One campaign member: the template with realistic edits, and its own sentences."""
    if r.random() < 0.25:
        return t.render(), []
    paragraphs = [list(p) for p in t.paragraphs]
    greeting, signoff = t.greeting, t.signoff
    inserted: list[str] = []
    if r.random() < 0.4:
        greeting = r.choice([*GREETINGS, ""])
    if r.random() < 0.2 and len(paragraphs) > 1:
        r.shuffle(paragraphs)
    if r.random() < 0.3:
        p = r.choice(paragraphs)
        if len(p) > 1:
            p.pop(r.randrange(len(p)))
    if r.random() < 0.5:
        s = _own_sentence(r)
        p = r.choice(paragraphs)
        p.insert(r.randrange(len(p) + 1), s)
        inserted.append(s)
    if r.random() < own_paragraph:  # a paragraph of their own
        own = [_own_sentence(r) for _ in range(r.randint(2, 3))]
        paragraphs.insert(r.randint(0, len(paragraphs)), own)
        inserted.extend(own)
    if r.random() < 0.15:
        paragraphs[0].insert(0, f"My name is {r.choice(NAMES)} and I live in {r.choice(PLACE)}.")
    body = "\n\n".join(" ".join(p) for p in paragraphs)
    if r.random() < 0.4:
        words = body.split(" ")
        protected = {w for s in inserted for w in s.split(" ")}
        for _ in range(r.randint(1, 4)):
            j = r.randrange(len(words))
            if words[j] not in protected:
                words[j] = _typo(r, words[j])
        body = " ".join(words)
    if r.random() < 0.5:
        signoff = r.choice(SIGNOFFS)
    if r.random() < 0.5:
        signoff = f"{signoff}\n{r.choice(NAMES)}"
    text = f"{greeting}\n\n{body}\n\n{signoff}" if greeting else f"{body}\n\n{signoff}"
    return text, inserted


@dataclass
class CaseSet:
    texts: list[str]
    gold: np.ndarray  # campaign id per text, -1 outside campaigns
    templates: list[str]  # per gold campaign id
    inserted: dict[int, list[str]] = field(default_factory=dict)  # text index -> own sentences
    derived_from: dict[int, int] = field(default_factory=dict)  # hard-case campaign -> base


def generate(
    n: int = 20_000,
    seed: int = 0,
    n_campaigns: int = 5,
    n_derived: int = 2,
    min_size: int = 20,
    max_size: int = 300,
    short_fraction: float = 0.03,
    derived_keep: float = 0.45,
    own_paragraph: float = 0.08,
) -> CaseSet:
    """A shuffled labelled set of ``n`` texts (see the module docstring).

    ``derived_keep`` is the share of a base letter's sentences that a hard-case
    campaign reuses; ``own_paragraph`` the share of members who add a paragraph
    of 2-3 sentences of their own (the heaviest edit).
    """
    r = random.Random(seed)
    templates = [_template(r) for _ in range(n_campaigns)]
    derived_from = {}
    for j in range(n_derived):
        base = j % n_campaigns
        derived_from[len(templates)] = base
        templates.append(_derived(r, templates[base], derived_keep))
    rows: list[tuple[str, int, list[str]]] = []
    for cid, t in enumerate(templates):
        for _ in range(r.randint(min_size, max_size)):
            text, ins = _member(r, t, own_paragraph)
            rows.append((text, cid, ins))
    if len(rows) > n:
        raise ValueError(f"n={n} is smaller than the {len(rows)} campaign members")
    rest = n - len(rows)
    n_short = int(rest * short_fraction)
    for _ in range(n_short):
        rows.append((r.choice(SHORT_ANSWERS), -1, []))
    n_twice = min(20, max(0, (rest - n_short) // 200))
    for _ in range(n_twice):
        a = _answer(r)
        rows.append((a, -1, []))
        rows.append((a.replace(".", ". ", 1), -1, []))
    while len(rows) < n:
        rows.append((_answer(r), -1, []))
    r.shuffle(rows)
    texts = [t for t, _, _ in rows]
    gold = np.array([c for _, c, _ in rows], dtype=np.int64)
    inserted = {i: ins for i, (_, _, ins) in enumerate(rows) if ins}
    return CaseSet(texts, gold, [t.render() for t in templates], inserted, derived_from)


if __name__ == "__main__":  # pragma: no cover - manual inspection
    cs = generate(2000, seed=0)
    for cid, t in enumerate(cs.templates):
        print(f"--- campaign {cid}: {int((cs.gold == cid).sum())} members, {len(t.split())} words")
        print(t)
    print("--- an independent answer")
    print(cs.texts[int(np.flatnonzero(cs.gold == -1)[0])])
