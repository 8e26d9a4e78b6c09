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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Redacted:
    text: str
    replacements: list[Replacement]


ALL_KINDS = frozenset(KINDS.values())


def personal_data_find(*, text: str, kinds: frozenset[str] = ALL_KINDS) -> list[Finding]:
    """Where personal data of `kinds` is, left to right; of overlapping findings, the
    longest (then the surest) wins."""
    entities = [entity for entity, kind in KINDS.items() if kind in kinds]
    results = _analyzer().analyze(text, language="en", entities=entities, score_threshold=MIN_SCORE)
    kept = []
    for result in sorted(results, key=lambda r: (r.start, -(r.end - r.start), -r.score)):
        if not kept or result.start >= kept[-1].end:
            kept.append(result)
    return [Finding(r.start, r.end, KINDS[r.entity_type]) for r in kept]


def personal_data_redact(*, text: str, kinds: frozenset[str] = ALL_KINDS) -> Redacted:
    """`text` with each piece of personal data of `kinds` replaced by a numbered placeholder;
    the same value twice gets the same placeholder."""
    placeholders: dict[str, Replacement] = {}
    counts: dict[str, int] = {}
    pieces, end = [], 0
    for finding in personal_data_find(text=text, kinds=kinds):
        value = text[finding.start : finding.end]
        if value not in placeholders:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
            placeholder = f"[{finding.kind}_{counts[finding.kind]}]"
            placeholders[value] = Replacement(placeholder, finding.kind, value)
        pieces += [text[end : finding.start], placeholders[value].placeholder]
        end = finding.end
    pieces.append(text[end:])
    return Redacted(text="".join(pieces), replacements=list(placeholders.values()))


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
