"""Personal data in customer messages: found with Presidio, replaced by placeholders.

Presidio's pattern recognizers do the finding (checksums included: Luhn for cards, IBAN
check digits, phonenumbers for phones). Its spaCy NER is left out: no trained spaCy model
can be installed offline, so a blank English pipeline only tokenises, and names and
street addresses are not detected. Two recognizers are widened after measuring them on
Presidio's own synthetic set (`../shared/data/pii/`, see `make bench`):

- cards: any 12 to 19 digits that pass Luhn (Presidio's patterns miss 19-digit Visa,
  2-series Mastercard, Maestro and JCB numbers: recall 0.78 → 1.0);
- phones: phonenumbers' "possible number" test over the regions Keel's customers call
  from, seven digits at least, not a date or "140 x 22 x 80" (Presidio's defaults
  found 0.59 → 1.0).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import spacy
import tldextract
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, Pattern, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, PhoneRecognizer

# Presidio entity → the placeholder's name, for the kinds Keel redacts.
KINDS = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "US_PASSPORT": "PASSPORT",
    "US_ITIN": "TAX_ID",
    "UK_NHS": "NHS_NUMBER",
    "IP_ADDRESS": "IP_ADDRESS",
}
PHONE_REGIONS = [
    "US", "CA", "GB", "IE", "AU", "NZ", "DE", "AT", "CH", "FR", "BE", "NL", "ES", "PT", "IT",
    "PL", "CZ", "HU", "FI", "SE", "NO", "DK", "IN", "BR", "MX", "IL", "ZA", "JP",
]  # fmt: skip
MIN_PHONE_DIGITS = 7
# Digits joined by up to four separators, as phonenumbers' matcher joins a number's blocks
# ("+1 (415) 555-0142"); its separators are punctuation, spaces and "x".
_DIGIT_RUN = re.compile(r"\d+(?:(?:[^\w]|[_xX]){1,4}\d+)*")
MIN_SCORE = 0.3
# Where two recognizers match the same text, the narrower format names it when they are as
# sure: a card or an NHS number is also a possible phone number, an ITIN an SSN-shaped one.
SPECIFICITY = [
    "CARD", "IBAN", "NHS_NUMBER", "EMAIL", "IP_ADDRESS", "TAX_ID", "SSN", "PASSPORT", "PHONE",
]  # fmt: skip
# Unicode spaces ("4111\u00a01111\u00a0...", a narrow no-break space between an SSN's
# groups) read as " ", the only space the recognizers' patterns know; one character for
# one, so a finding's place in the text read is its place in the text written.
_UNICODE_SPACE = re.compile(r"[^\S\t\n\r\f\v ]")
# A placeholder already in a text ("[CARD_2]"), whoever wrote it.
_PLACEHOLDER = re.compile(r"\[([A-Z_]+)_(\d+)\]")


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Replacement:
    placeholder: str  # "[EMAIL_1]"
    kind: str  # "EMAIL"
    value: str
    new: bool = True  # False: an earlier text of the conversation holds it, sealed already


@dataclass(frozen=True)
class Redacted:
    text: str
    replacements: list[Replacement]  # each placeholder of `text` once


@dataclass(frozen=True)
class Placeholders:
    """The placeholders a conversation's texts already hold, so that a value keeps its
    placeholder in every message and a new value takes the next number of its kind."""

    of_value: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, same) → [KIND_n]
    highest: dict[str, int] = field(default_factory=dict)  # kind → its highest n


ALL_KINDS = frozenset(KINDS.values())


def personal_data_find(*, text: str, kinds: frozenset[str] = ALL_KINDS) -> list[Finding]:
    """Where personal data of `kinds` is, left to right. Overlapping findings are one, all
    their text redacted, of the kind found on the longest span (a phone's "+44..." holds
    digits that pass as a card), then by the surest recognizer, then the narrowest."""
    entities = [entity for entity, kind in KINDS.items() if kind in kinds]
    results = _analyzer().analyze(
        _UNICODE_SPACE.sub(" ", text),
        language="en",
        entities=entities,
        score_threshold=MIN_SCORE,
    )
    overlapping: list[list] = []
    for result in sorted(results, key=lambda r: r.start):
        if overlapping and result.start < max(r.end for r in overlapping[-1]):
            overlapping[-1].append(result)
        else:
            overlapping.append([result])
    return [
        Finding(
            start=min(r.start for r in group),
            end=max(r.end for r in group),
            kind=KINDS[min(group, key=_naming_order).entity_type],
        )
        for group in overlapping
    ]


def _naming_order(result) -> tuple:
    return (result.start - result.end, -result.score, SPECIFICITY.index(KINDS[result.entity_type]))


def personal_data_redact(
    *, text: str, kinds: frozenset[str] = ALL_KINDS, earlier: Placeholders | None = None
) -> Redacted:
    """`text` with each piece of personal data of `kinds` replaced by a numbered placeholder:
    the one the value has `earlier` in its conversation, else the next of its kind."""
    earlier = earlier or Placeholders()
    placeholders = dict(earlier.of_value)
    highest = {**earlier.highest}
    for kind, number in _placeholders_in(text):  # a customer may type "[CARD_1]" themselves
        highest[kind] = max(highest.get(kind, 0), number)
    replacements: dict[str, Replacement] = {}
    pieces, end = [], 0
    for finding in personal_data_find(text=text, kinds=kinds):
        value = text[finding.start : finding.end]
        same = (finding.kind, _same_value(finding.kind, value))
        if same not in placeholders:
            highest[finding.kind] = highest.get(finding.kind, 0) + 1
            placeholders[same] = f"[{finding.kind}_{highest[finding.kind]}]"
        placeholder = placeholders[same]
        replacements.setdefault(
            placeholder,
            Replacement(placeholder, finding.kind, value, new=same not in earlier.of_value),
        )
        pieces += [text[end : finding.start], placeholder]
        end = finding.end
    pieces.append(text[end:])
    return Redacted(text="".join(pieces), replacements=list(replacements.values()))


def placeholders_known(
    *, texts: Iterable[str], values: Iterable[tuple[str, str, str | None]]
) -> Placeholders:
    """What a conversation already holds: the placeholders written in its `texts`, and
    `values` (placeholder, kind, value: None if it cannot be read) from its vault."""
    values = list(values)
    known = Placeholders(
        of_value={
            (kind, _same_value(kind, value)): placeholder
            for placeholder, kind, value in values
            if value is not None
        }
    )
    for text in [*texts, *(placeholder for placeholder, _, _ in values)]:
        for kind, number in _placeholders_in(text):
            known.highest[kind] = max(known.highest.get(kind, 0), number)
    return known


def _placeholders_in(text: str) -> Iterable[tuple[str, int]]:
    for match in _PLACEHOLDER.finditer(text):
        if match[1] in ALL_KINDS:
            yield match[1], int(match[2])


def _same_value(kind: str, value: str) -> str:
    """A value as compared with earlier ones: "4111 1111 1111 1111" and "4111111111111111"
    are one card, "Sam@Example.com" and "sam@example.com" one address."""
    if kind in ("EMAIL", "IP_ADDRESS"):
        return value.casefold()
    return re.sub(r"[\W_]", "", value).upper()


class _BlankEnglish(SpacyNlpEngine):
    """Tokenisation only: no trained spaCy model can be downloaded here."""

    def load(self) -> None:
        self.nlp = {"en": spacy.blank("en")}


class _Phone(PhoneRecognizer):
    """Any possible number of the regions, but not a date or a box's dimensions."""

    def analyze(self, text, entities, nlp_artifacts=None):
        # Matching every region took most of an answer sentence's check (0.7 of 1.1 ms,
        # 10 to 26 ms for a row of a table full of figures), and most texts hold no run
        # of digits long enough to be a phone number at all.
        if not any(
            sum(character.isdigit() for character in run) >= MIN_PHONE_DIGITS
            for run in _DIGIT_RUN.findall(text)
        ):
            return []
        return [
            result
            for result in super().analyze(text, entities, nlp_artifacts)
            if _plausible_phone(text[result.start : result.end])
        ]


def _plausible_phone(candidate: str) -> bool:
    if sum(c.isdigit() for c in candidate) < MIN_PHONE_DIGITS or " x " in candidate:
        return False
    try:
        date.fromisoformat(candidate.strip())
    except ValueError:
        return True
    return False


@cache
def _analyzer() -> AnalyzerEngine:
    # Presidio checks e-mail and URL domains with tldextract, which would fetch the public
    # suffix list from the internet on first use; its bundled copy is enough.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    nlp_engine = _BlankEnglish(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.remove_recognizer("PhoneRecognizer")
    registry.remove_recognizer("CreditCardRecognizer")
    registry.add_recognizer(_Phone(supported_regions=PHONE_REGIONS, leniency=0))
    registry.add_recognizer(
        CreditCardRecognizer(
            patterns=[Pattern("digits, Luhn-checked", r"\b(?:\d[ -]?){11,18}\d\b", 0.3)]
        )
    )
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])
