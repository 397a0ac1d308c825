"""Tests for analysis.redaction (personal-data redaction) and analysis.text."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from analysis import text as text_helpers
from analysis.redaction import (
    KINDS,
    PersonalDataRedactor,
    Redaction,
    Span,
    redact,
    redact_many,
)

ROOT = Path(__file__).resolve().parents[2]


def _load_cases_module() -> ModuleType:
    path = ROOT / "benchmarks" / "redaction_cases.py"
    spec = importlib.util.spec_from_file_location("redaction_cases_for_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


cases_module = _load_cases_module()


def found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    """(original substring, kind) for every span."""
    result = redact(text, **kwargs)  # type: ignore[arg-type]
    return [(text[s.start : s.end], s.kind) for s in result.spans]


# ---------------------------------------------------------------------------
# Each type, typical formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "jane.smith@example.com",
        "J.Smith+consult@mail.example.co.uk",
        "o'neill_84@example.org",
        "JANE@EXAMPLE.COM",
    ],
)
def test_email_detected(value: str) -> None:
    text = f"Please write to {value}. Thanks for reading."
    assert found(text) == [(value, "EMAIL")]
    assert redact(text).text == "Please write to [EMAIL]. Thanks for reading."


@pytest.mark.parametrize(
    "value",
    ["jane.smith [at] example [dot] org", "jane at example dot co dot uk", "jane(at)example.com"],
)
def test_obfuscated_email_detected(value: str) -> None:
    assert found(f"Email {value} please") == [(value, "EMAIL")]


@pytest.mark.parametrize(
    "value",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "+44 7700 900 123",
        "+44 (0)7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "(020) 7946 0958",
        "020 7946 0958",
        "020-7946-0958",
        "0207 946 0958",
        "+44 20 7946 0958",
        "+44 (0) 20 7946 0958",
        "0113 496 0123",
        "(0113) 496 0123",
        "01632 960001",
        "0808 157 0192",
        "07700.900.123",
        "0 7700 900123",  # stray space after the trunk zero
        "O7700 900123",  # letter O typed for zero
    ],
)
def test_phone_detected(value: str) -> None:
    text = f"Call me on {value} after 6pm."
    assert found(text) == [(value, "PHONE")]
    assert redact(text).text == "Call me on [PHONE] after 6pm."


@pytest.mark.parametrize(
    "value",
    [
        "SW1A 1AA",
        "sw1a 1aa",
        "SW1A1AA",
        "EC1A 1BB",
        "W1A 0AX",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "ls6 2ab",
        "GIR 0AA",
        "LS6  2AB",
    ],
)
def test_postcode_detected(value: str) -> None:
    text = f"I live at 12 Mill Lane, {value}, near the station."
    assert found(text) == [("12 Mill Lane", "ADDRESS"), (value, "POSTCODE")]
    assert "[POSTCODE]" in redact(text).text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("I live at 113 Victoria Street and nobody asked me.", "113 Victoria Street"),
        ("Flat 2, 14 Mill Lane, Leeds", "Flat 2, 14 Mill Lane"),
        ("Apartment 7 220 King Edward Road is my home.", "Apartment 7 220 King Edward Road"),
        ("Write to 14a St Mary's Rd. please.", "14a St Mary's Rd"),
        ("My address: 12-14 Upper Brook Close, Bristol", "12-14 Upper Brook Close"),
        ("MY ADDRESS IS 9 HIGH STREET, LEEDS", "9 HIGH STREET"),
        ("They wrote to 27 Orchard Gardens instead.", "27 Orchard Gardens"),
    ],
)
def test_street_address_detected(text: str, address: str) -> None:
    assert (address, "ADDRESS") in found(text)
    assert "[ADDRESS]" in redact(text).text and address not in redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        "There are 3 main points I want to make.",
        "Section 12 Street-works Act powers are a different matter.",
        "In 2015 High Street banks closed two branches.",
        "The A38 Bristol Road is where most accidents happen.",
        "Victoria Street in Westminster houses several departments.",
        "Questions 5 Park Lane residents raised were never answered.",
        "Write to the Prime Minister at 10 Downing Street if you disagree.",
        "Around 40 Acacia Avenue-style streets were surveyed.",
        "We need 24 Hour Drive-through pharmacies.",
        "It cost £3 Million Road Fund money.",
    ],
)
def test_address_lookalikes_untouched(text: str) -> None:
    assert [k for _, k in found(text)] == []


@pytest.mark.parametrize(
    "value",
    [
        "AB123456C",
        "AB 12 34 56 C",
        "AB 123456 C",
        "ab123456c",
        "JT 12 34 56 D",
        "AB-12-34-56-C",
        "CE 123 456 A",
        "AB 12 34 56",
    ],
)
def test_ni_number_detected(value: str) -> None:
    text = f"My National Insurance number is {value} if needed."
    assert found(text) == [(value, "NI_NUMBER")]
    assert "[NI_NUMBER]" in redact(text).text


@pytest.mark.parametrize(
    "value",
    [
        "ab 123456",  # lower case without suffix: too weak
        "AB1234567C",  # seven digits
        "QQ123456",  # never-issued prefix and no suffix: not clearly an NI number
        "GB123456",  # administrative prefix, no suffix
    ],
)
def test_invalid_ni_numbers_not_detected(value: str) -> None:
    assert [k for _, k in found(f"Reference {value} here")] == []


@pytest.mark.parametrize(
    "value",
    [
        "QQ123456C",  # HMRC's never-issued dummy prefix, as in examples and the demo
        "QQ 12 34 56 C",
        "DA123456C",  # D is not allowed first: a mistyped number is still personal data
        "GB123456C",
    ],
)
def test_ni_shaped_numbers_with_a_suffix_are_redacted_whatever_the_prefix(value: str) -> None:
    assert [k for _, k in found(f"Reference {value} here")] == ["NI_NUMBER"]


@pytest.mark.parametrize(
    "value",
    [
        "facebook.com/jane.smith",
        "https://www.facebook.com/janesmith84",
        "https://www.linkedin.com/in/jane-smith-1a2b3c",
        "twitter.com/jane_smith",
        "www.instagram.com/jane.smith/",
        "https://janesmith.example.com/blog/2016/05/data",
        "http://www.example.org/~jsmith",
        "https://example.com/profile?id=1234",
    ],
)
def test_personal_url_detected(value: str) -> None:
    text = f"See my page ({value}) for more."
    assert found(text) == [(value, "URL")]


@pytest.mark.parametrize(
    "text",
    [
        "More information is on www.gov.uk and example.org.",
        "See https://www.gov.uk/government/consultations/better-use-of-data for details.",
        "The Act is at https://www.legislation.gov.uk/ukpga/2017/30/part/5.",
        "Visit https://www.example.org/ for help.",
    ],
)
def test_bare_domains_and_public_sector_links_kept(text: str) -> None:
    assert redact(text).spans == ()
    assert redact(text).text == text


def test_public_sector_link_with_query_is_redacted() -> None:
    text = "My case: https://www.gov.uk/track?ref=ABC123 please."
    assert [k for _, k in found(text)] == ["URL"]


def test_url_trailing_punctuation_not_included() -> None:
    text = "My blog is twitter.com/jane_s."
    assert found(text) == [("twitter.com/jane_s", "URL")]


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I wrote to Mr John Smith last year.", "Mr John Smith"),
        ("Dr Patel at my surgery agreed.", "Dr Patel"),
        ("A letter from Mrs J. Okafor arrived.", "Mrs J. Okafor"),
        ("Cllr Sarah Hughes voted for it.", "Cllr Sarah Hughes"),
        ("Prof. Evans has written on this.", "Prof. Evans"),
        ("Rev Tom Lloyd spoke at the meeting.", "Rev Tom Lloyd"),
    ],
)
def test_title_and_name(text: str, name: str) -> None:
    assert found(text) == [(name, "NAME")]
    assert "[NAME]" in redact(text).text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I support this.\n\nKind regards,\nJane Smith", "Jane Smith"),
        ("I support this.\n\nYours sincerely,\nJ. Smith", "J. Smith"),
        ("I support this. Yours sincerely, J. Smith", "J. Smith"),
        ("I support this. Thanks, Tom", "Tom"),
        ("I support this.\nBest wishes\nOluwaseun Adeyemi", "Oluwaseun Adeyemi"),
        ("I support this.\n\nRegards,\nPriya", "Priya"),
        ("Good idea. Cheers, Dafydd", "Dafydd"),
        ("No.\n\nMany thanks\n\nHelen Walker (retired nurse)", "Helen Walker"),
    ],
)
def test_sign_offs(text: str, name: str) -> None:
    assert found(text) == [(name, "NAME")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("My name is Oluwaseun Adeyemi and I live in Leeds.", "Oluwaseun Adeyemi"),
        ("my name is jane smith and i object", "jane smith"),
        ("I am Sarah Jones and I run a small business.", "Sarah Jones"),
        ("I'm Tom, a parent of two.", "Tom"),
        ("I am Ines Roberts, a GP in Leeds.", "Ines Roberts"),
        ("My neighbour Aisha Hill was wrongly accused.", "Aisha Hill"),
        ("I discussed it with Margaret Thompson yesterday.", "Margaret Thompson"),
    ],
)
def test_introductions_relations_and_known_first_names(text: str, name: str) -> None:
    assert found(text) == [(name, "NAME")]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Scott was great and Lisa listened.", ["Scott", "Lisa"]),
        ("Thanks to Chris, Paul and Angela.", ["Chris", "Paul", "Angela"]),
        ("KIND REGARDS\nJANE SMITH", ["JANE SMITH"]),
        ("Best wishes\nTendai Hall", ["Tendai Hall"]),
    ],
)
def test_known_first_names_alone_and_capitals_sign_off(text: str, names: list[str]) -> None:
    assert [v for v, k in found(text)] == names


@pytest.mark.parametrize(
    "text",
    [
        "Frank discussion is needed.",
        "St George and St James are saints.",
        "Christmas Eve and Big Ben.",
        "KIND REGARDS\nNHS ENGLAND",
        "Kind regards,\nCounty Hall",
        "Best wishes,\nLeeds Green Party",
        "Scores were 0 1 2 3 4 5 6 7 8 9 10.",
    ],
)
def test_ambiguous_words_not_redacted(text: str) -> None:
    assert redact(text).spans == ()


def test_detected_name_is_redacted_where_it_recurs() -> None:
    text = "My name is Jane Smith. Jane thinks the proposal is rushed."
    result = redact(text)
    assert result.text == "My name is [NAME]. [NAME] thinks the proposal is rushed."


@pytest.mark.parametrize(
    "text",
    [
        "I am Concerned about Section 35 of the Digital Economy Act 2017.",
        "I'm Very Worried about the scale of this.",
        "I am Strongly Opposed to Proposal 4.",
        "I am British and proud of our privacy.",
        "Dear Sir or Madam, I write in response.",
        "Dear Sir,\nI object.",
        "The Lord Chancellor and the Prime Minister disagree.",
        "Mr Speaker ruled the motion in order.",
        "Kind regards,\nThe Residents' Association",
        "Yours faithfully,\nCitizens Advice Leeds",
        "Best practice suggests a privacy impact assessment.",
        "Thanks for the opportunity to respond.",
        "Regards the proposal on debt, I have no view.",
        "I travel through Victoria Station every day.",
        "The Queen Elizabeth Hospital already shares records.",
        "Victoria Park is lovely.",
        "My GP Surgery is far away.",
        "Thank you, Minister.",
    ],
)
def test_name_false_positives_avoided(text: str) -> None:
    assert redact(text).spans == ()


# ---------------------------------------------------------------------------
# Metadata names
# ---------------------------------------------------------------------------


def test_metadata_full_name_case_insensitive_and_parts() -> None:
    text = "priya sharma here. Priya thinks so. SHARMA agrees. Sharma's view. sharma, no."
    result = redact(text, names=["Priya Sharma"])
    assert result.text == "[NAME] here. [NAME] thinks so. [NAME] agrees. [NAME]'s view. sharma, no."


def test_metadata_full_name_across_whitespace() -> None:
    text = "Signed Priya\nSharma"
    assert redact(text, names=["Priya Sharma"]).text == "Signed [NAME]"


def test_metadata_short_parts_and_single_names() -> None:
    # "Al" (2 letters) is not redacted alone; a single-word name is redacted whole-word
    assert redact("Al said so, and Al Khan agreed.", names=["Al Khan"]).text == (
        "Al said so, and [NAME] agreed."
    )
    assert redact("Khan agreed.", names=["Al Khan"]).text == "[NAME] agreed."
    assert (
        redact("tom and Tom and Tomorrow", names=["Tom"]).text == "[NAME] and [NAME] and Tomorrow"
    )


def test_metadata_parts_not_inside_other_words_or_emails() -> None:
    result = redact("Smithson wrote; reply to smith@example.com", names=["Jane Smith"])
    assert result.text == "Smithson wrote; reply to [EMAIL]"


def test_metadata_names_ignored_when_empty() -> None:
    assert redact("Nothing here.", names=["", "   "]).spans == ()


# ---------------------------------------------------------------------------
# Spans, placeholders, raw text, batches
# ---------------------------------------------------------------------------


def test_spans_point_to_original_text_and_raw_text_unchanged() -> None:
    raw = (
        "My name is Jane Smith, email jane@example.com, phone 07700 900123, "
        "postcode LS6 2AB, NI AB123456C, blog facebook.com/jane.smith"
    )
    copy = str(raw)
    result = redact(raw)
    assert raw == copy
    assert isinstance(result, Redaction)
    assert [(raw[s.start : s.end], s.kind) for s in result.spans] == [
        ("Jane Smith", "NAME"),
        ("jane@example.com", "EMAIL"),
        ("07700 900123", "PHONE"),
        ("LS6 2AB", "POSTCODE"),
        ("AB123456C", "NI_NUMBER"),
        ("facebook.com/jane.smith", "URL"),
    ]
    assert result.text == (
        "My name is [NAME], email [EMAIL], phone [PHONE], "
        "postcode [POSTCODE], NI [NI_NUMBER], blog [URL]"
    )
    assert all(isinstance(s, Span) for s in result.spans)
    with pytest.raises(AttributeError):
        result.spans[0].start = 3  # type: ignore[misc]


def test_offsets_survive_unicode_whose_lower_case_changes_length() -> None:
    # "İ".lower() is two characters: the lower-cased search text must keep offsets
    raw = "İİİ see twitter.com/jane_s and jane at example dot com"
    result = redact(raw)
    assert [(raw[s.start : s.end], s.kind) for s in result.spans] == [
        ("twitter.com/jane_s", "URL"),
        ("jane at example dot com", "EMAIL"),
    ]


def test_placeholders_are_not_redacted_again() -> None:
    placeholders = " ".join(f"[{k}]" for k in KINDS)
    assert redact(placeholders).spans == ()


def test_kinds_restrict_what_is_redacted() -> None:
    text = "Mail jane@example.com or call 07700 900123."
    assert redact(text, kinds=["PHONE"]).text == "Mail jane@example.com or call [PHONE]."
    with pytest.raises(ValueError, match="unknown kinds"):
        redact(text, kinds=["SHOE_SIZE"])


def test_redact_many_with_and_without_names() -> None:
    # "Oluwaseun" is in no first-name list: only the metadata finds it
    texts = ["Oluwaseun agrees.", "Call 07700 900123", ""]
    out = redact_many(texts, [["Oluwaseun Adeyemi"], [], []])
    assert [r.text for r in out] == ["[NAME] agrees.", "Call [PHONE]", ""]
    assert [r.text for r in redact_many(iter(texts))] == ["Oluwaseun agrees.", "Call [PHONE]", ""]
    with pytest.raises(ValueError, match="names has 1 entries"):
        redact_many(texts, [["x"]])


def test_overlapping_detections_resolved_by_priority() -> None:
    # the metadata name "Smith" inside an e-mail must not split the e-mail span
    result = redact("jane.Smith@example.com", names=["Jane Smith"])
    assert [(s.kind, s.start, s.end) for s in result.spans] == [("EMAIL", 0, 22)]


def test_use_ner_without_trained_pipeline_warns_and_falls_back() -> None:
    if text_helpers.trained_pipeline_available():
        pytest.skip("en_core_web_sm installed: NER path is live")
    with pytest.warns(RuntimeWarning, match="en_core_web_sm"):
        result = redact("Kind regards,\nJane Smith", use_ner=True)
    assert result.text == "Kind regards,\n[NAME]"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Hello ",
                "jane@example.com",
                " 07700 900123 ",
                "SW1A 1AA",
                " Mr Smith ",
                "AB 12 34 56 C",
                "twitter.com/x",
                "£1,200 ",
                "\n",
                "Kind regards,\nTom",
                "Zoë ",
                "I am ",
            ]
        )
        | st.text(max_size=20)
    ).map("".join)
)
def test_spans_are_ordered_disjoint_and_rebuild_the_text(raw: str) -> None:
    result = redact(raw)
    pos = 0
    rebuilt = []
    for span in result.spans:
        assert span.kind in KINDS
        assert pos <= span.start < span.end <= len(raw)
        rebuilt.append(raw[pos : span.start])
        rebuilt.append(f"[{span.kind}]")
        pos = span.end
    rebuilt.append(raw[pos:])
    assert "".join(rebuilt) == result.text


# ---------------------------------------------------------------------------
# Hard negatives and the generated benchmark set
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The cost rose from £1,200 to £1,450 per household, an increase of 20.8%.",
        "HC Bill 153 2016-17 does not say who can access the data.",
        "Regulation (EU) 2016/679 will apply from 25 May 2018.",
        "Traffic on the M25 and the A14 is irrelevant.",
        "Call 999 in an emergency or 111 for the NHS.",
        "The date was 01/04/2017 and the deadline 2017-04-22.",
        "Our office is in SE1, on the 3rd floor, near the M1 1st exit.",
        "Figures for 2015/16 show 12,345 cases of fraud.",
        "The reference number on my letter was 2017/0045321.",
        "Form SA100 and form SA302 are both used.",
        "CO2 emissions and COVID-19 are separate issues.",
    ],
)
def test_hard_negatives_untouched(text: str) -> None:
    result = redact(text)
    assert result.spans == ()
    assert result.text == text


def _recall_precision() -> dict[str, tuple[float, float]]:
    cases = cases_module.generate_cases()
    gold_n = dict.fromkeys(KINDS, 0)
    gold_hit = dict.fromkeys(KINDS, 0)
    pred_n = dict.fromkeys(KINDS, 0)
    pred_ok = dict.fromkeys(KINDS, 0)
    for case in cases:
        pred = redact(case.text, names=case.names).spans
        for s, e, k in case.spans:
            gold_n[k] += 1
            gold_hit[k] += any(p.kind == k and p.start < e and s < p.end for p in pred)
        for p in pred:
            pred_n[p.kind] += 1
            pred_ok[p.kind] += any(
                k == p.kind and p.start < e and s < p.end for s, e, k in case.spans
            )
    return {
        k: (gold_hit[k] / gold_n[k], pred_ok[k] / pred_n[k] if pred_n[k] else 1.0)
        for k in KINDS
        if gold_n[k]
    }


def test_generated_cases_are_deterministic_and_large_enough() -> None:
    a = cases_module.generate_cases()
    b = cases_module.generate_cases()
    assert a == b
    positives = [c for c in a if c.category == "positive"]
    negatives = [c for c in a if c.category == "negative"]
    assert len(positives) >= 300
    assert len(negatives) >= 100
    assert all(not c.spans for c in negatives)
    for case in positives:
        assert case.spans
        for s, e, _ in case.spans:
            assert 0 <= s < e <= len(case.text)
            assert case.text[s:e].strip() == case.text[s:e]


def test_generated_set_meets_recall_targets() -> None:
    scores = _recall_precision()
    for kind in ("EMAIL", "PHONE", "POSTCODE", "NI_NUMBER"):
        recall, precision = scores[kind]
        assert recall >= 0.95, (kind, recall)
        assert precision >= 0.95, (kind, precision)
    assert scores["URL"][0] >= 0.95
    # names are harder; the benchmark reports the exact figure
    assert scores["NAME"][0] >= 0.85
    assert scores["NAME"][1] >= 0.9
    # addresses: lower-case ones and house names are missed (benchmark: exact figure)
    assert scores["ADDRESS"][0] >= 0.85
    assert scores["ADDRESS"][1] >= 0.95


def test_generated_negatives_mostly_untouched() -> None:
    negatives = [c for c in cases_module.generate_cases() if c.category == "negative"]
    touched = [c.text for c in negatives if redact(c.text).spans]
    assert len(touched) <= 0.03 * len(negatives), touched


def test_speed_typical_answer_well_under_a_tenth_of_a_millisecond() -> None:
    texts = cases_module.typical_answers(1000)
    for t in texts[:20]:
        redact(t)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for t in texts:
            redact(t)
        best = min(best, time.process_time() - start)
    per_answer = best / len(texts)
    assert per_answer < 100e-6, f"{per_answer * 1e6:.1f} us per answer"


# ---------------------------------------------------------------------------
# scikit-learn transformer
# ---------------------------------------------------------------------------


def test_transformer_params_clone_and_fit_transform() -> None:
    redactor = PersonalDataRedactor(kinds=("EMAIL", "PHONE"))
    assert redactor.get_params() == {"kinds": ("EMAIL", "PHONE"), "use_ner": False}
    twin = clone(redactor)
    assert twin is not redactor
    assert twin.get_params() == redactor.get_params()
    twin.set_params(kinds=("NAME",))
    assert twin.kinds == ("NAME",)
    assert redactor.kinds == ("EMAIL", "PHONE")

    X = ["Mail jane@example.com, Mr Smith", "Call 07700 900123"]
    assert redactor.fit(X) is redactor
    assert redactor.transform(X) == ["Mail [EMAIL], Mr Smith", "Call [PHONE]"]
    assert twin.fit_transform(X) == ["Mail jane@example.com, [NAME]", "Call 07700 900123"]
    # stateless: no learned attributes, transform works unfitted
    assert not [a for a in vars(redactor) if a.endswith("_")]
    assert PersonalDataRedactor().transform(X) == ["Mail [EMAIL], [NAME]", "Call [PHONE]"]


@pytest.mark.parametrize(
    "check_name",
    [
        "check_get_params_invariance",
        "check_set_params",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_estimator_cloneable",
        "check_estimator_repr",
        "check_dont_overwrite_parameters",
        "check_fit_check_is_fitted",
        "check_valid_tag_types",
    ],
)
def test_transformer_passes_applicable_estimator_checks(check_name: str) -> None:
    # the checks that do not assume numeric 2-D input (this is a text transformer)
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check_name)("PersonalDataRedactor", PersonalDataRedactor())


def test_transformer_validates_kinds_and_rejects_single_string() -> None:
    with pytest.raises(ValueError, match="unknown kinds"):
        PersonalDataRedactor(kinds=("BOGUS",)).fit(["x"])
    with pytest.raises(ValueError, match="single string"):
        PersonalDataRedactor().transform("one text")


def test_transformer_in_a_pipeline() -> None:
    pipe = make_pipeline(PersonalDataRedactor(), TfidfVectorizer(token_pattern=r"\[?\w+\]?"))
    X = ["Email jane@example.com now", "Email tom@example.org later"]
    pipe.fit(X)
    vocab = pipe[-1].vocabulary_
    assert "[email]" in vocab  # TfidfVectorizer lower-cases the placeholder
    assert not any("example" in term for term in vocab)


# ---------------------------------------------------------------------------
# analysis.text helpers
# ---------------------------------------------------------------------------


def test_blank_pipeline_cached_with_sentencizer() -> None:
    nlp = text_helpers.blank_pipeline()
    assert nlp is text_helpers.blank_pipeline()
    assert "sentencizer" in nlp.pipe_names
    docs = list(text_helpers.iter_docs(["One. Two.", "Three"], batch_size=2))
    assert [len(list(d.sents)) for d in docs] == [2, 1]
    text = "First sentence. Second one!"
    assert [text[s:e] for s, e in text_helpers.iter_sentences(text)] == [
        "First sentence.",
        "Second one!",
    ]
