"""Deterministic generator of redaction test cases with gold spans.

    from benchmarks.redaction_cases import generate_cases
    cases = generate_cases()          # same list every time (seeded)

Each :class:`Case` is a realistic UK consultation answer (on the 2016 "Better
Use of Data in Government" proposals) with personal data embedded in varied,
natural formats, and the gold spans (offsets into ``text``) of every piece of
personal data. ``names`` is the respondent metadata the service would pass to
``redact(text, names=...)``. Negative cases contain no personal data but look
tricky: money, percentages, dates, years, bill and section numbers, road
names, place names, "Dear Sir", capitalised policy words, gov.uk links.

All data is fictional: Ofcom drama numbers (07700 900xxx, 020 7946 0xxx,
0113 496 0xxx ...), example.com/org/net e-mail domains, invented people.

The formats here were written from how people actually type these things, not
from the detector's patterns; some are deliberately awkward (double spaces in
postcodes, "077 009 00123" groupings, names outside any first-name list,
surnames that are also ordinary words) so that the benchmark reports misses.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_SEED = 20160401
KINDS = ("EMAIL", "PHONE", "POSTCODE", "NI_NUMBER", "URL", "NAME", "ADDRESS")


@dataclass(frozen=True)
class Case:
    text: str
    spans: tuple[tuple[int, int, str], ...]
    names: tuple[str, ...] = ()
    category: str = "positive"  # "positive" or "negative"
    tags: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------
# Fictional people. Some first names are common, some rarer (Welsh, Scottish,
# Irish, Nigerian, Polish ...), and some surnames are ordinary English words.
# ---------------------------------------------------------------------------

FIRST_NAMES = [
    "Jane", "Tom", "Sarah", "David", "Emma", "James", "Fiona", "Gareth", "Helen", "Rajesh",
    "Margaret", "Peter", "Aisha", "Ben", "Claire", "Michael", "Lucy", "Daniel", "Hannah", "Ian",
    "Sophie", "Robert", "Priya", "Stuart", "Joanne", "Mohammed", "Karen", "Andrew", "Niamh",
    "Oliver", "Eilidh", "Oluwaseun", "Tadhg", "Ffion", "Bartosz", "Ngozi", "Kwame", "Cerys",
    "Saoirse", "Ruaridh", "Agnieszka", "Chidi", "Anwen", "Lachlan", "Ines", "Yusuf", "Mateusz",
    "Rhiannon", "Dominika", "Tendai",
]  # fmt: skip

SURNAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Roberts", "Patel", "Khan", "O'Neill", "McAllister", "MacLeod", "Okafor", "Nowak",
    "Smith-Jones", "Hughes", "Edwards", "Walker", "Robinson", "Thompson", "Wright", "Clarke",
    "Adeyemi", "Kowalski", "Fitzgerald", "Bennett", "Gallagher", "Morrison", "Chaudhry",
    "Hall", "Green", "Wood", "Hill", "Rees", "Pritchard", "Lloyd", "Campbell",
]  # fmt: skip

EMAIL_DOMAINS = [
    "example.com", "example.org", "example.net", "mail.example.co.uk", "example.ac.uk",
    "residents.example.org.uk", "EXAMPLE.COM",
]  # fmt: skip

TOWNS = [
    "Leeds", "Cardiff", "Swansea", "Glasgow", "Belfast", "Norwich", "Sheffield", "Bristol",
    "Kingston upon Thames", "Milton Keynes", "Stoke-on-Trent", "Inverness", "Derry",
]  # fmt: skip

# Ofcom numbers reserved for drama: (format parts, free digits)
LANDLINES = [
    ("020", "7946", "0"),
    ("0113", "496", "0"),
    ("0114", "496", "0"),
    ("0117", "496", "0"),
    ("0121", "496", "0"),
    ("0131", "496", "0"),
    ("0141", "496", "0"),
    ("0161", "496", "0"),
    ("0191", "498", "0"),
    ("028", "9649", "6"),
    ("029", "2018", "0"),
]

FILLERS = [
    "I broadly support sharing data to tailor public services, with strong safeguards.",
    "The civil registration proposal should go further and allow digital certificates.",
    "I do not trust departments to keep my data secure after the recent breaches.",
    "Fuel poverty schemes would reach more homes if suppliers were told who qualifies.",
    "Debt owed to government should be handled fairly and with a single point of contact.",
    "Research access to de-identified data is valuable but must use accredited secure labs.",
    "There should be a public register of every data-sharing agreement made under these powers.",
    "Codes of practice must be statutory, not voluntary, or they will be ignored.",
    "I worry that fraud and error powers will be used to target vulnerable claimants.",
    "Please publish the privacy impact assessments before the Bill is introduced.",
    "My experience of the benefits system is that information is already shared too loosely.",
    "Local authorities need clearer guidance before they can use these gateways.",
    "The consultation document does not explain how citizens can object to sharing.",
    "Overall this is a sensible step, as long as oversight is independent.",
    "Sharing with private companies should be ruled out entirely.",
]  # fmt: skip


# ---------------------------------------------------------------------------
# Template rendering: "{kind:generator}" placeholders become gold spans.
# ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.person = self.new_person()

    def new_person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)

    # Each generator returns (text, kind or None)
    def email(self) -> tuple[str, str | None]:
        r = self.rng
        first, last = self.person
        f, la = first.lower(), last.lower().replace("'", "")
        local = r.choice(
            [
                f"{f}.{la}",
                f"{f[0]}{la}",
                f"{f}_{la}{r.randint(1, 99)}",
                f"{f}.{la}+consultation",
                f"{first}{last.replace(chr(39), '')}",
                f"{la}.{f}",
                f"{f}{r.randint(1950, 2005)}",
                f"{f[0]}.{la}",
            ]
        )
        return f"{local}@{r.choice(EMAIL_DOMAINS)}", "EMAIL"

    def email_obfuscated(self) -> tuple[str, str | None]:
        r = self.rng
        first, last = self.person
        f, la = first.lower(), last.lower().replace("'", "")
        dom = r.choice(["example", "example-mail"])
        tld = r.choice(["com", "org", "co.uk"])
        variant = r.randrange(4)
        if variant == 3:
            return f"{f}(dot){la}(at){dom}(dot){tld.replace('.', '(dot)')}", "EMAIL"
        if variant == 0:
            return f"{f}.{la} [at] {dom} [dot] {tld.replace('.', ' [dot] ')}", "EMAIL"
        if variant == 1:
            return f"{f}.{la} at {dom} dot {tld.replace('.', ' dot ')}", "EMAIL"
        return f"{f}{la} (at) {dom}.{tld}", "EMAIL"

    def phone(self) -> tuple[str, str | None]:
        r = self.rng
        kind = r.random()
        if kind < 0.45:  # mobile 07700 900xxx
            tail = f"{r.randint(0, 999):03d}"
            fmt = r.choice(
                [
                    "07700 900{t}",
                    "07700900{t}",
                    "07700 900 {t}",
                    "07700-900-{t}",
                    "+44 7700 900{t}",
                    "+44 7700 900 {t}",
                    "+44 (0)7700 900{t}",
                    "+447700900{t}",
                    "0044 7700 900{t}",
                    "(07700) 900{t}",
                    "07700.900.{t}",
                    "077 009 00{t}",
                    "+44 (0) 7700 900 {t}",
                    "0 7700 900{t}",  # stray space after the trunk zero
                    "O7700 900{t}",  # letter O typed for zero
                ]
            )
            return fmt.format(t=tail), "PHONE"
        if kind < 0.85:
            area, exch, first_digit = r.choice(LANDLINES)
            tail = first_digit + f"{r.randint(0, 999):03d}"
            if len(area) == 3:  # 020, 028, 029: 8-digit local numbers
                fmt = r.choice(
                    [
                        "{a} {e} {t}",
                        "({a}) {e} {t}",
                        "{a}-{e}-{t}",
                        "{a}{e}{t}",
                        "+44 {a1} {e} {t}",
                        "+44 (0){a1} {e} {t}",
                        "{a}{e0} {e1}{t}",  # "0207 946 0xxx", the common London grouping
                        "tel. {a} {e} {t}",
                    ]
                )
            else:
                fmt = r.choice(
                    [
                        "{a} {e} {t}",
                        "({a}) {e} {t}",
                        "{a} {e}{t}",
                        "{a}-{e}-{t}",
                        "+44 {a1} {e} {t}",
                        "0044 {a1} {e}{t}",
                        "{a}{e}{t}",
                    ]
                )
            text = fmt.format(a=area, a1=area[1:], e=exch, e0=exch[0], e1=exch[1:], t=tail)
            if text.startswith("tel. "):
                return text[5:], "PHONE"  # the label itself is not the number
            return text, "PHONE"
        tail = f"{r.randint(0, 999):03d}"
        fmt = r.choice(
            ["01632 960{t}", "(01632) 960 {t}", "08081 570{t}", "0808 157 0{t}", "03069 990{t}"]
        )
        return fmt.format(t=tail), "PHONE"

    def postcode(self) -> tuple[str, str | None]:
        r = self.rng
        inward_letters = "ABDEFGHJLNPQRSTUWXYZ"
        shape = r.random()
        if shape < 0.03:
            outward, inward = "GIR", "0AA"
        else:
            if shape < 0.2:
                outward = r.choice(["M", "B", "G", "L", "S", "E", "N", "W"]) + str(r.randint(1, 9))
            elif shape < 0.4:
                outward = r.choice(["M", "B", "G", "L", "S"]) + str(r.randint(10, 40))
            elif shape < 0.65:
                outward = r.choice(["LS", "CF", "EH", "BT", "NE", "BS", "CB", "OX", "YO", "SA"])
                outward += str(r.randint(1, 9))
            elif shape < 0.85:
                outward = r.choice(["CF", "DN", "CR", "KT", "TN", "PL", "AB", "IV", "LL", "BT"])
                outward += str(r.randint(10, 55))
            elif shape < 0.93:
                outward = r.choice(["SW1A", "EC1A", "EC2M", "WC2H", "SW1P", "EC4Y", "WC1E"])
            else:
                outward = r.choice(["W1A", "W1T", "N1C", "E1W", "W1D"])
            inward = str(r.randint(0, 9)) + r.choice(inward_letters) + r.choice(inward_letters)
        fmt = r.random()
        if fmt < 0.55:
            text = f"{outward} {inward}"
        elif fmt < 0.7:
            text = f"{outward}{inward}"
        elif fmt < 0.82:
            text = f"{outward} {inward}".lower()
        elif fmt < 0.9:
            text = f"{outward}{inward}".lower()
        elif fmt < 0.96:
            text = f"{outward.capitalize()} {inward.lower()}"
        elif fmt < 0.98:
            text = f"{outward}  {inward}"  # double space, as typed
        else:
            text = f"{outward}-{inward}"  # dash instead of a space
        return text, "POSTCODE"

    def ni(self) -> tuple[str, str | None]:
        r = self.rng
        first_ok = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
        second_ok = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
        while True:
            prefix = r.choice(first_ok) + r.choice(second_ok)
            if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                break
        d = f"{r.randint(0, 999999):06d}"
        suffix = r.choice("ABCD")
        fmt = r.choice(
            [
                "{p}{d}{s}",
                "{p} {d1} {d2} {d3} {s}",
                "{p} {d} {s}",
                "{p}{d} {s}",
                "{pl}{d}{sl}",
                "{p}-{d1}-{d2}-{d3}-{s}",
                "{p} {d1} {d2} {d3}",
                "{p}{d1} {d2} {d3}{s}",
                "{pl} {d1} {d2} {d3} {sl}",
                "{p} {d[0]}{d[1]}{d[2]} {d[3]}{d[4]}{d[5]} {s}",
            ]
        )
        text = fmt.format(
            p=prefix,
            pl=prefix.lower(),
            d=d,
            d1=d[:2],
            d2=d[2:4],
            d3=d[4:],
            s=suffix,
            sl=suffix.lower(),
        )
        return text, "NI_NUMBER"

    def url(self) -> tuple[str, str | None]:
        r = self.rng
        first, last = self.person
        f, la = first.lower(), last.lower().replace("'", "")
        handle = r.choice([f"{f}{la}", f"{f}_{la}", f"{f[0]}{la}{r.randint(1, 99)}", f"{la}{f}"])
        text = r.choice(
            [
                f"facebook.com/{f}.{la}",
                f"https://www.facebook.com/{f}{la}{r.randint(1, 999)}",
                f"https://www.linkedin.com/in/{f}-{la}-{r.randrange(16**6):06x}",
                f"uk.linkedin.com/in/{f}{la}",
                f"twitter.com/{handle}",
                f"https://x.com/{handle}",
                f"instagram.com/{handle}/",
                f"https://www.youtube.com/@{handle}",
                f"https://{f}{la}.example.com/blog/2016/05/better-use-of-data",
                f"http://www.example.org/~{f[0]}{la}",
                f"https://medium.com/@{handle}/why-i-oppose-data-sharing-{r.randrange(16**8):08x}",
                f"www.example.net/people/{f}-{la}",
                f"https://example.com/profile?id={r.randint(1000, 99999)}",
                f"github.com/{handle}",
            ]
        )
        return text, "URL"

    def fullname(self) -> tuple[str, str | None]:
        first, last = self.person
        return f"{first} {last}", "NAME"

    def first(self) -> tuple[str, str | None]:
        return self.person[0], "NAME"

    def last(self) -> tuple[str, str | None]:
        return self.person[1], "NAME"

    def initial_last(self) -> tuple[str, str | None]:
        first, last = self.person
        return f"{first[0]}. {last}", "NAME"

    def upper_fullname(self) -> tuple[str, str | None]:
        first, last = self.person
        return f"{first} {last}".upper(), "NAME"

    def lower_first(self) -> tuple[str, str | None]:
        return self.person[0].lower(), "NAME"

    def lower_fullname(self) -> tuple[str, str | None]:
        first, last = self.person
        return f"{first} {last}".lower(), "NAME"

    def titled(self) -> tuple[str, str | None]:
        r = self.rng
        first, last = self.person
        title = r.choice(
            [
                *("Mr", "Mrs", "Ms", "Miss", "Dr", "Dr.", "Prof", "Prof.", "Professor", "Sir"),
                *("Dame", "Rev", "Revd", "Cllr", "Councillor", "Lord", "Lady", "Mr."),
            ]
        )
        form = r.randrange(3)
        if form == 0:
            return f"{title} {first} {last}", "NAME"
        if form == 1:
            return f"{title} {last}", "NAME"
        return f"{title} {first[0]}. {last}", "NAME"

    def town(self) -> tuple[str, str | None]:
        return self.rng.choice(TOWNS), None

    def filler(self) -> tuple[str, str | None]:
        return self.rng.choice(FILLERS), None

    def street(self) -> tuple[str, str | None]:
        r = self.rng
        streets = ["Acacia Avenue", "Mill Lane", "Station Road", "Church Street", "Park View"]
        return f"{r.randint(1, 220)} {r.choice(streets)}", "ADDRESS"

    def address(self) -> tuple[str, str | None]:
        """A street address as people type it (house number, flat, abbreviations ...)."""
        r = self.rng
        names = [
            "Victoria", "Mill", "Station", "Church", "Queen", "Manor", "Orchard", "Chapel",
            "High", "Park", "Albert", "King Edward", "St Mary's", "Upper Brook", "Beech",
            "Hawthorn", "Castle", "Bridge", "Meadow", "Windsor", "Grange", "Elm Tree",
        ]  # fmt: skip
        suffixes = [
            "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Crescent", "Gardens",
            "Grove", "Terrace", "Place", "Way", "Court", "Row", "Mews", "Walk", "View", "Rise",
        ]  # fmt: skip
        short = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Crescent": "Cres"}
        number = str(r.randint(1, 240))
        street = f"{r.choice(names)} {r.choice(suffixes)}"
        form = r.random()
        if form < 0.4:
            return f"{number} {street}", "ADDRESS"
        if form < 0.55:
            return f"Flat {r.randint(1, 12)}, {number} {street}", "ADDRESS"
        if form < 0.62:
            return f"Flat {r.randint(1, 12)} {number} {street}", "ADDRESS"
        if form < 0.7:
            return f"{number}{r.choice('abAB')} {street}", "ADDRESS"
        if form < 0.8:
            name, suffix = street.rsplit(" ", 1)
            dot = r.choice(["", "."])
            return f"{number} {name} {short.get(suffix, suffix)}{dot}", "ADDRESS"
        if form < 0.86:
            return f"{number}-{int(number) + 2} {street}", "ADDRESS"
        if form < 0.92:
            return f"{number} {street}".lower(), "ADDRESS"  # typed in lower case
        if form < 0.96:
            return f"{number} {street}".upper(), "ADDRESS"  # typed in capitals
        # a house name instead of a number
        house = r.choice(["Rose Cottage", "The Old Rectory", "Ivy House", "Tŷ Gwyn"])
        return f"{house}, {street}", "ADDRESS"

    def year(self) -> tuple[str, str | None]:
        return str(self.rng.randint(1998, 2016)), None

    def age(self) -> tuple[str, str | None]:
        return str(self.rng.randint(19, 88)), None


def _render(template: str, b: _Builder) -> tuple[str, list[tuple[int, int, str]]]:
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    length = 0
    for m in _PLACEHOLDER.finditer(template):
        literal = template[pos : m.start()]
        out.append(literal)
        length += len(literal)
        gen: Callable[[], tuple[str, str | None]] = getattr(b, m.group(1))
        value, kind = gen()
        if kind is not None:
            spans.append((length, length + len(value), kind))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


# ---------------------------------------------------------------------------
# Positive templates, grouped by the kind they mainly exercise.
# ---------------------------------------------------------------------------

POSITIVE_TEMPLATES: dict[str, list[str]] = {
    "EMAIL": [
        "If you want to discuss this further please email me at {email}.",
        "You can reach me on {email} if anything in my answer is unclear.",
        "Contact: {email}",
        "I am happy to be contacted ({email}) about the research proposals.",
        "Please send the outcome of the consultation to {email}, thank you.",
        "My email is {email} and my phone number is {phone}.",
        "Reply to <{email}> please.",
        "Email me: mailto:{email}",
        "I have written before from {email} but had no reply.",
        "Write to {email_obfuscated} if you want the full report.",
        "{filler} Email {email} for our evidence.",
        "My address is {email}; I would like a copy of the summary.",
    ],
    "PHONE": [
        "You can call me on {phone} during the day.",
        "Phone: {phone}",
        "Tel {phone} (evenings only).",
        "My mobile is {phone} if you need to check anything.",
        "Ring {phone} and ask for the data protection officer.",
        "I rang the helpline twice last year and was then called back from {phone}.",
        "{filler} Please call {phone} to talk about my case.",
        "Contact number {phone}, or by post.",
        "I can be reached at {phone} or {phone}.",
        "Mob: {phone}",
        "Call me on {phone}, I am a carer and at home most days.",
    ],
    "POSTCODE": [
        "I live in {town}, {postcode}, and the council already shares our data.",
        "My address is {street}, {town} {postcode}.",
        "Postcode: {postcode}",
        "We are a small charity based at {postcode} serving around 300 families.",
        "In my area ({postcode}) fuel poverty is a real problem.",
        "{filler} I am a resident of {postcode}.",
        "Send any letters to {street}, {town}, {postcode}, not to my old address.",
        "postcode {postcode} - rural area with poor broadband",
        "Our surgery in {postcode} already links records with the hospital.",
        "I moved from {postcode} to {town} in {year} and had to register everything again.",
    ],
    "NI_NUMBER": [
        "My National Insurance number is {ni} and my benefits were stopped in error.",
        "NI number: {ni}",
        "NINO {ni} - please check the records you hold about me.",
        "They asked for my NI number ({ni}) three times on the same call.",
        "{filler} For reference my NI no. is {ni}.",
        "I gave DWP my national insurance number {ni} and HMRC still had different details.",
        "ref {ni}",
        "My NI is {ni}, date of birth withheld.",
    ],
    "URL": [
        "You can see my blog at {url} where I wrote about this.",
        "More of my views: {url}.",
        "I posted about this on {url} last week.",
        "My profile ({url}) shows my work in data ethics.",
        "See {url}",
        "{filler} I have set out my reasons at {url}",
        "Follow me on {url} for updates.",
    ],
    "NAME": [
        "My name is {fullname} and I have lived in {town} for {age} years.",
        "My name is {fullname}, I am a retired social worker.",
        "my name is {lower_fullname} and i don't want my data shared",
        "I am {fullname} and I run a small business.",
        "I'm {first}, a parent of two children with special needs.",
        "I am {fullname}, a GP in {town}.",
        "{filler}\n\nKind regards,\n{fullname}",
        "{filler}\n\nYours sincerely,\n{initial_last}",
        "{filler} Thanks, {first}",
        "{filler}\nBest wishes\n{fullname}",
        "{filler}\n\nRegards,\n{first}",
        "{filler} Cheers, {first}",
        "{filler}\n\nMany thanks\n\n{fullname} (retired nurse)",
        "{filler}\n\nYours faithfully\n\n{titled}",
        "I discussed this with {titled} at my local surgery and she agreed.",
        "A letter from {titled} told me my records had been shared.",
        "{titled} from the council said there was nothing she could do.",
        "{filler} {titled} has also written to you about this.",
        "My neighbour {fullname} was wrongly accused of benefit fraud.",
        "I spoke to {fullname} at the job centre and she could not explain it.",
        "Submitted by {fullname}.",
        "{filler}\n\nKind regards\n{titled}",
        "{filler} Best,\n{first}",
        # harder: no trigger word, a first name alone, capitals, lower case
        "{first} at the council told me my file had been shared.",
        "Thanks to {fullname} and the team at the surgery for their help.",
        "{filler}\n\nKIND REGARDS\n{upper_fullname}",
        "I talked to {lower_first} at the job centre and nobody knew.",
        "{fullname} (a constituent) asked me to send this on.",
        "Me and {first} both think this goes too far.",
    ],
}

# Templates whose {first}/{last}/{fullname} come from the respondent metadata.
METADATA_TEMPLATES = [
    "{first} here. I think the proposals are reasonable but rushed.",
    "As {first}, I object to my records being shared without consent.",
    "The council wrote to {titled} in {year} and got it wrong.",
    "{filler} I, {fullname}, do not consent to any data sharing.",
    "My husband and I ({fullname}) strongly disagree with Proposal 3.",
    "Please do not publish this response. {fullname}",
    "{lower_fullname} - personal response. {filler}",
    "The letter was addressed to {last} family, not to me.",
    "{filler} Signed: {fullname}",
    "{first}'s view: {filler}",
]

# ---------------------------------------------------------------------------
# Hard negatives: no personal data at all.
# ---------------------------------------------------------------------------

NEGATIVES = [
    "I am Concerned about Section 35 of the Digital Economy Act 2017 and how it will be used.",
    "Dear Sir or Madam, I write in response to the Better Use of Data consultation.",
    "Dear Sir,\nI oppose Proposal 2 on civil registration.",
    "The cost rose from £1,200 to £1,450 per household, an increase of 20.8%.",
    "Around 2.5 million households were in fuel poverty in 2014 (ONS, 2016).",
    "Between 2010 and 2015 the error rate fell from 3.2% to 2.1%.",
    "See paragraphs 4.12 to 4.19 of the consultation document and Annex B.",
    "HC Bill 153 2016-17 does not say who can access the data.",
    "Regulation (EU) 2016/679 will apply from 25 May 2018.",
    "The Data Protection Act 1998, Schedule 2, paragraph 5 already allows this.",
    "Article 8 of the European Convention on Human Rights protects private life.",
    "I am British and proud of our tradition of privacy.",
    "I'm Very Worried about the scale of this.",
    "I am Strongly Opposed to the fraud proposals.",
    "I Am Disabled and rely on Personal Independence Payment.",
    "The Cabinet Office and the Government Digital Service should lead on this.",
    "The Office for National Statistics already links census data securely.",
    "Kind regards,\nThe Residents' Association",
    "Yours faithfully,\nCitizens Advice Leeds",
    "Many thanks,\nLeeds Civic Trust",
    "Thanks for the opportunity to respond.",
    "Best practice suggests a privacy impact assessment for every gateway.",
    "Regards the proposal on debt, I have no view.",
    "Thank you.",
    "The Lord Chancellor and the Prime Minister have both spoken on this.",
    "Mr Speaker ruled that the motion was in order.",
    "Lady Justice Hale's judgment is relevant here.",
    "I travel through Victoria Station every day and see the posters.",
    "The Queen Elizabeth Hospital in Birmingham already shares records.",
    "The Elizabeth Line will make no difference to this.",
    "People in Kingston upon Thames and Milton Keynes were not consulted.",
    "Northern Ireland, Scotland and Wales have their own arrangements.",
    "Traffic on the M25 and the A14 is irrelevant to data sharing.",
    "The A1(M) junction 45 scheme was a good example of consultation.",
    "CO2 emissions from data centres are a separate issue.",
    "COVID-19 showed what joined-up data can do.",
    "ISO 27001 certification should be required of every body.",
    "Answer 0 to 10: I would give it 7.",
    "Version 2.0.1 of the code of practice is better than 1.3.",
    "The reference number on my letter was 2017/0045321.",
    "Call 999 in an emergency or 111 for the NHS.",
    "The 0800 helpline number was never answered.",
    "The HMRC P45 and P60 forms already hold this data.",
    "Years 7 to 11 pupils' data is held by the Department for Education.",
    "Our office is in SE1, on the 3rd floor.",
    "We meet on the 1st and 3rd Monday of every month.",
    "See https://www.gov.uk/government/consultations/better-use-of-data for details.",
    "The text is at https://www.legislation.gov.uk/ukpga/2017/30/part/5 for anyone to read.",
    "More information is on www.gov.uk and ico.org.uk.",
    "The ICO (ico.org.uk) should have more powers.",
    "Visit example.org or citizensadvice.org.uk for help.",
    "I use Twitter and Facebook but I never post about politics.",
    "1,200,000 people responded to a similar consultation in 2012.",
    "Fines of up to £500,000 are not a deterrent to large departments.",
    "Only 45% agreed, 30% disagreed and 25% had no view.",
    "Figures for 2015/16 show 12,345 cases of fraud and 67,890 cases of error.",
    "The date on the form was 01/04/2017 and the deadline 2017-04-22.",
    "Proposal 3 (Debt) and Proposal 4 (Fraud and Error) go too far.",
    "Better Use of Data in Government is a good title but the detail is thin.",
    "The Digital Economy Bill, Part 5, Chapter 1 covers public service delivery.",
    "The General Data Protection Regulation will change this.",
    "The National Health Service should be excluded.",
    "Universal Credit claimants are already over-monitored.",
    "Troubled Families Programme data was shared with 152 local authorities.",
    "Question 12: Yes. Question 13: No. Question 14: Not sure.",
    "I am Responding on behalf of myself only.",
    "I'm Unsure whether this applies to Scotland.",
    "The Bill should be amended at Committee Stage.",
    "Grace period of 28 days should apply before any debt action.",
    "Jersey and Guernsey are outside the scope of the Act.",
    "The Isle of Wight pilot in 2015 was a failure.",
    "St George's Day is not relevant here.",
    "We need Freedom of Information Act requests answered within 20 working days.",
    "The threshold of £16,000 in savings should be raised to £23,250.",
    "Page 17, footnote 3 misquotes the Law Commission report (Law Com No 351).",
    "Over 65s and under 18s should be treated differently.",
    "The error rate was 0.8 per cent in 2014-15.",
    "Use the 2011 Census and the 2021 Census together.",
    "Open Data Institute and Royal Statistical Society responses are worth reading.",
    "No. I do not agree.",
    "Yes, I agree with all of Chapter 3.",
    "Income under £20k a year should protect people from debt recovery.",
    "Sheffield, Leeds and Bradford councils have tried this.",
    "I have a 2:1 degree in statistics and worked at the ONS for 10 years.",
    "The pilot cost £2.3m and saved £4.1m over 3 years.",
    "In 2016 the ratio was 1:4, in 2017 1:3.",
    "Please see our attached response (12 pages, 3 annexes).",
    "The Children Act 1989, section 47, already allows sharing.",
    "Serious Fraud Office cases are a different matter.",
    "Her Majesty's Revenue and Customs should not be in the research gateway.",
    "UK Statistics Authority accreditation is essential.",
    "This is a good proposal. Best regards to the team.",
    "Many thanks to the Cabinet Office team for the workshops.",
    "Cheers.",
    "I am a Labour voter and a Unison member.",
    "I'm a Councillor in a small parish.",
    "Dear Minister,\nPlease reconsider.",
    "The Data Ethics Framework published by DCMS in 2018 is helpful.",
    "Section 19 of the Statistics and Registration Service Act 2007 covers this.",
    "Schedule 4 paragraphs 1-12 should be removed.",
    "Room 1.02, 2nd floor, Block B was where the workshop took place.",
    "The speed limit on the A38 is 70 mph.",
    "Form SA100 and form SA302 are both used for self assessment.",
    "Bus route 7A and 12B serve the hospital.",
    "Household income of £1,234.56 a month is typical in my area.",
    "Over 0.5% of records contain errors, i.e. about 1 in 200.",
    "We had 3 responses from Wales, 14 from Scotland and 212 from England.",
    "Tax codes such as 1150L and BR are confusing.",
    "EU Directive 95/46/EC is the basis of the current law.",
    "There were 4,000 responses to the 2012 consultation on section 7.",
    "The pilot ran from 1 April 2016 to 31 March 2017.",
    "My score on page 3 was 7/10.",
    "Twitter thread: see the ICO's statement on 12 May.",
    "I am Jewish and worry about registers of any kind.",
    "I'm Deaf and the consultation was not accessible.",
    "Yours, a concerned citizen.",
    "Kind regards,\nA Resident",
    "Kind regards,\nConcerned Parent",
    "Best wishes,\nThe Data Justice Lab",
    "Jack Russell terriers are not relevant but my dog barks at the postman.",
    "Victoria Park and Alexandra Palace are in London.",
]


ADDRESS_TEMPLATES = [
    "My address is {address}, {town} {postcode}.",
    "I live at {address} and the council still has my details wrong.",
    "Please write to me at {address}, {town}.",
    "Our house at {address} was flooded in {year} and no agency shared anything.",
    "{filler} Address: {address}, {town}.",
    "Send the summary to {address} please.",
    "I have lived at {address} for {age} years.",
    "Letters for the previous owner of {address} still arrive every week.",
    "My mother lives at {address}, {town}, and was sent someone else's records.",
    "{filler}\n\n{fullname}\n{address}\n{town}",
]

# Hard negatives for addresses: numbers before capitalised words, streets without numbers,
# public buildings' addresses cited as such.
ADDRESS_NEGATIVES = [
    "There are 3 main points I want to make about Proposal 2.",
    "Section 12 Street-works Act powers are a different matter.",
    "The New Roads and Street Works Act 1991 is a good model for notices.",
    "In 2015 High Street banks closed two branches in our town.",
    "In 1998 Church Road was pedestrianised and nobody was asked.",
    "It is a 10 minute walk from the Town Hall to the job centre.",
    "The A38 Bristol Road is where most accidents happen.",
    "Victoria Street in Westminster houses several departments.",
    "I work 4 days a week in an office on Station Road.",
    "Questions 5 Park Lane residents raised were never answered.",
    "Write to the Prime Minister at 10 Downing Street if you disagree.",
    "The Treasury, 1 Horse Guards Road, should publish the business case.",
    "Around 40 Acacia Avenue-style streets in the borough were surveyed.",
    "Over 2 Million Road users pay vehicle excise duty online.",
    "Chapter 4 Green Paper proposals were better than these.",
    "We held 3 Drive-in sessions and 2 online webinars.",
]


def address_cases(seed: int = DEFAULT_SEED, n: int = 80) -> list[Case]:
    """Street addresses (gold ADDRESS spans, with any postcode or name in them) and their hard
    negatives. Their own random stream, so the other cases stay as they were."""
    rng = random.Random(seed + 2)
    b = _Builder(rng)
    cases: list[Case] = []
    for i in range(n):
        b.person = b.new_person()
        text, spans = _render(ADDRESS_TEMPLATES[i % len(ADDRESS_TEMPLATES)], b)
        cases.append(Case(text, tuple(spans), (), "positive", ("ADDRESS",)))
    cases.extend(Case(text, (), (), "negative", ("NEGATIVE",)) for text in ADDRESS_NEGATIVES)
    return cases


def _negative_variants(rng: random.Random) -> list[str]:
    """Extra hard negatives: tricky numbers and words combined with fillers."""
    out: list[str] = []
    for _ in range(40):
        money = f"£{rng.randint(1, 999)},{rng.randint(0, 999):03d}"
        pct = f"{rng.randint(1, 99)}.{rng.randint(0, 9)}%"
        year = rng.randint(1990, 2016)
        section = rng.randint(1, 120)
        out.append(
            rng.choice(
                [
                    f"In {year} the scheme cost {money} and reached {pct} of households.",
                    f"Section {section} of the Digital Economy Act 2017 should be repealed.",
                    f"{rng.choice(FILLERS)} Only {pct} of respondents agreed in {year}.",
                    f"Clause {section}({rng.randint(1, 9)})(b) of the Bill is too wide.",
                    f"About {rng.randint(2, 40)},{rng.randint(100, 999)} families in "
                    f"{rng.choice(TOWNS)} could benefit.",
                    f"The {year}/{(year + 1) % 100:02d} figures show {money} lost to error.",
                    f"Paragraph {rng.randint(1, 9)}.{rng.randint(1, 40)} of the consultation "
                    "asks the wrong question.",
                ]
            )
        )
    return out


def generate_cases(
    seed: int = DEFAULT_SEED, n_positive: int = 480, n_metadata: int = 80
) -> list[Case]:
    """The full deterministic case list: positives, metadata-name cases, hard negatives."""
    rng = random.Random(seed)
    b = _Builder(rng)
    cases: list[Case] = []
    kinds = list(POSITIVE_TEMPLATES)
    for i in range(n_positive):
        b.person = b.new_person()
        kind = kinds[i % len(kinds)]
        template = rng.choice(POSITIVE_TEMPLATES[kind])
        text, spans = _render(template, b)
        # embed in an answer: sometimes a filler sentence before or after
        lead = rng.random()
        if lead < 0.35 and not template.startswith("{filler}"):
            prefix = rng.choice(FILLERS) + " "
            text = prefix + text
            spans = [(s + len(prefix), e + len(prefix), k) for s, e, k in spans]
        elif lead < 0.6 and "\n" not in template and not template.endswith("{first}"):
            text = text + " " + rng.choice(FILLERS)
        cases.append(Case(text, tuple(spans), (), "positive", (kind,)))
    for _ in range(n_metadata):
        b.person = b.new_person()
        template = rng.choice(METADATA_TEMPLATES)
        text, spans = _render(template, b)
        first, last = b.person
        cases.append(Case(text, tuple(spans), (f"{first} {last}",), "positive", ("METADATA",)))
    negatives = list(NEGATIVES) + _negative_variants(rng)
    for text in negatives:
        cases.append(Case(text, (), (), "negative", ("NEGATIVE",)))
    cases.extend(address_cases(seed))
    return cases


def typical_answers(n: int = 2000, seed: int = DEFAULT_SEED, pii_share: float = 0.1) -> list[str]:
    """Answers of about 300 characters, most without personal data (for timing)."""
    rng = random.Random(seed + 1)
    b = _Builder(rng)
    pool = [c for c in NEGATIVES if len(c) > 40]
    out: list[str] = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 280:
            parts.append(rng.choice(FILLERS) if rng.random() < 0.6 else rng.choice(pool))
        if rng.random() < pii_share:
            b.person = b.new_person()
            kind = rng.choice(list(POSITIVE_TEMPLATES))
            parts[-1] = _render(rng.choice(POSITIVE_TEMPLATES[kind]), b)[0]
        out.append(" ".join(parts))
    return out


if __name__ == "__main__":  # pragma: no cover - manual inspection
    for c in generate_cases()[:20]:
        print(repr(c.text), [(c.text[s:e], k) for s, e, k in c.spans])
