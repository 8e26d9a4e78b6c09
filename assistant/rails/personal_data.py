"""Personal data in customer messages: found with Presidio, replaced by placeholders.

Presidio's pattern recognizers do the finding (checksums included: Luhn for cards, IBAN
check digits, phonenumbers for phones), with Keel's own recognizers beside them:

- e-mail addresses on any domain Django's e-mail validator accepts (Presidio's checks the
  top-level domain against a list, so "inbox.example" or a new gTLD got through);
- a card's expiry date and a date of birth: a date found only with its context word
  before it ("exp", "born", "DOB"...), through Presidio's context enhancement, so a date
  in a question about a bill stays (an expiry date only in a message about a card); a
  card's security code only right after its name;
- street addresses: pyap2 finds whole US, Canadian and UK addresses; street lines in the
  usual European forms ("10 rue de Rivoli", "Hauptstraße 5") and UK and Canadian
  postcodes are patterns here; an address followed by "store" or "branch" is a place's;
- names only after a customer's own introduction ("my name is ..."): no trained spaCy
  model is published on PyPI by its makers, so there is no NER offline.

Two recognizers are widened after measuring them on Presidio's own synthetic set
(`../shared/data/pii/`, see `make bench`):

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

import pyap
import regex
import spacy
import tldextract
import tldextract.tldextract
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
)
from spacy.language import Language

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
    "CARD_EXPIRY": "CARD_EXPIRY",
    "CARD_SECURITY_CODE": "SECURITY_CODE",
    "DATE_OF_BIRTH": "BIRTH_DATE",
    "STREET_ADDRESS": "ADDRESS",
    "PERSON": "NAME",
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
    "CARD", "IBAN", "NHS_NUMBER", "EMAIL", "IP_ADDRESS", "TAX_ID", "SSN", "PASSPORT",
    "SECURITY_CODE", "CARD_EXPIRY", "BIRTH_DATE", "ADDRESS", "NAME", "PHONE",
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


@Language.component("lowercase_lemmas")
def _lowercase_lemmas(doc):
    """A word's lemma is the word in lower case: without one, Presidio's context words
    ("exp" before a card's expiry date) never match, and a blank pipeline has none."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class _BlankEnglish(SpacyNlpEngine):
    """Tokenisation only: no trained spaCy model can be downloaded here."""

    def load(self) -> None:
        nlp = spacy.blank("en")
        nlp.add_pipe("lowercase_lemmas")
        self.nlp = {"en": nlp}


class _Email(EmailRecognizer):
    """Any address whose domain is well formed, as Django's form fields accept it."""

    def validate_result(self, pattern_text: str) -> bool:
        try:
            validate_email(pattern_text)
        except ValidationError:
            return False
        return True


# Dates as people write them: 07/14/1990, 14.07.1990, 1990-07-14, 14 July 1990, July 14th,
# 1990, 14 de julio de 1990. The month's name is any word: the context decides.
_DATE_PATTERNS = [
    Pattern("numeric date", r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b", 0.1),
    Pattern("ISO date", r"\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b", 0.1),
    Pattern(
        "day month year",
        r"\b\d{1,2}(?:st|nd|rd|th|\.)?\s+(?:(?:of|de)\s+)?\p{L}{3,10}\.?,?\s+(?:de\s+)?\d{4}\b",
        0.1,
    ),
    Pattern("month day year", r"\b\p{L}{3,10}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b", 0.1),
]
# The words before a date of birth, in the languages Keel replies in.
BIRTH_WORDS = [
    "born", "dob", "birth", "birthday", "birthdate",
    "geboren", "geburtsdatum", "geburtstag",
    "né", "née", "naissance", "anniversaire",
    "nacido", "nacida", "nací", "nacimiento", "cumpleaños",
    "nato", "nata", "nascita", "compleanno",
    "geboortedatum", "verjaardag",
    "nascido", "nascida", "nasci", "aniversário",
]  # fmt: skip
# The words before a card's expiry date ("vence", "scade" also name a bill's due date).
EXPIRY_WORDS = [
    "exp", "expiry", "expires", "expire", "expiration", "expiring", "thru",
    "ablauf", "ablaufdatum", "caducidad", "vervaldatum", "validade",
]  # fmt: skip
# A card's security code is named right before it: "CVV 319", "security code: 042".
_SECURITY_CODE_NAMES = (
    r"cvv2?|cvc2?|cvn|csc|cid|security\s+code|card\s+code|verification\s+(?:code|value|number)"
    r"|code\s+de\s+s[ée]curit[ée]|cryptogramme|kartenpr[üu]fnummer|pr[üu]fziffer"
    r"|c[óo]digo\s+de\s+seguran[çc]a|c[óo]digo\s+de\s+seguridad|codice\s+di\s+sicurezza"
    r"|beveiligingscode"
)
# An expiry date is a card's only in a message about a card ("my plan expires 11/27").
_CARD_CONTEXT = regex.compile(
    r"\b(?:cards?|visa|mastercard|amex|carte|karte|tarjeta|carta|kaart|cartão"
    rf"|{_SECURITY_CODE_NAMES})\b|\[CARD_\d+\]",
    regex.IGNORECASE,
)


class _CardExpiry(PatternRecognizer):
    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        if not _CARD_CONTEXT.search(text):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


# A street with its number, in the usual forms: "2217 Juniper Hollow Road", "10 rue de
# Rivoli", "Hauptstraße 5", "Via Roma 131", then perhaps ", 75001 Paris".
_STREET_TYPES = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl"
    r"|terrace|crescent|close|square|sq|parkway|pkwy|highway|hwy|circle|trail|row"
)
_NAME_WORD = r"\p{Lu}[\p{L}'.-]*"
# A street number does not follow a capitalised word: "Apex 3 Carbon Road" is a bike.
_NOT_A_MODEL = r"(?<!\p{Lu}\p{L}*\s)"
_POSTCODE_AND_TOWN = r"(?:,?\s+\d{4,5}\s+\p{Lu}\p{L}+)?"
_STREET_PATTERNS = [
    Pattern(
        "number, name, street type",
        rf"{_NOT_A_MODEL}\b\d{{1,5}}[A-Za-z]?\s+(?:{_NAME_WORD}\s+){{1,3}}(?i:{_STREET_TYPES})\b\.?",
        0.6,
    ),
    Pattern(
        "number, street type, name",
        _NOT_A_MODEL
        + r"\b\d{1,4}[a-z]?,?\s+(?i:rue|avenue|av\.|boulevard|bd|chemin|place|allée|impasse|quai"
        rf"|route)\s+(?:(?i:d[eu]|de\s+la|des|d')\s*)?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}"
        + _POSTCODE_AND_TOWN,
        0.6,
    ),
    Pattern(
        "street type, name, number",
        r"\b(?i:via|viale|piazza|corso|calle|avenida|plaza|paseo|carrer|rua|travessa|largo"
        rf"|praça|ulica|ul\.)\s+(?:(?i:d[eiaou]\w?|de\s+la|del)\s+)?{_NAME_WORD}"
        rf"(?:\s+{_NAME_WORD}){{0,3}},?\s+\d{{1,4}}[a-z]?\b" + _POSTCODE_AND_TOWN,
        0.6,
    ),
    Pattern(
        "name-street, number",
        r"\b\p{Lu}[\p{L}-]*\s?(?i:straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer|laan"
        r"|straat|gracht|plein|kade|singel|vej|gade|gatan|vägen|veien|gata|katu|kuja)"
        r"\s+\d{1,4}[a-z]?\b" + _POSTCODE_AND_TOWN,
        0.6,
    ),
    Pattern(
        "UK postcode",
        # Not a size: "X1 2TB".
        r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?(?!\d[GT]B\b)\d[ABD-HJLNP-UW-Z]{2}\b",
        0.5,
    ),
    Pattern(
        "Canadian postcode",
        r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b",
        0.5,
    ),
]
# "the 10 rue de Rivoli store", "our store: 85 Larkspur Ave": a place of the company's,
# not a customer's home.
_PLACE = r"(?:store|shop|branch|location|outlet|boutique|showroom)s?"
_PLACE_AFTER = regex.compile(rf"\s*{_PLACE}\b", regex.IGNORECASE)
_PLACE_BEFORE = regex.compile(rf"\b{_PLACE}\s*(?::|(?:is\s+)?(?:at|on))?\s*$", regex.IGNORECASE)
ADDRESS_COUNTRIES = ["US", "CA", "GB"]  # pyap2's
# A customer introducing themselves: "my name is Sam", "I'm Sam Ortega", "this is Sam
# Ortega from ...". A single capitalised word after "I'm" is as often "I'm Canadian".
_NAME = r"\p{Lu}\p{Ll}+(?:[ '-]\p{Lu}\p{Ll}+){0,2}"
_FULL_NAME = r"\p{Lu}\p{Ll}+(?:[ '-]\p{Lu}\p{Ll}+){1,2}"
_NAME_PATTERNS = [
    Pattern(
        "my name is",
        r"(?<=\b(?i:my\s+name\s+is|my\s+name's|call\s+me|je\s+m'appelle|ich\s+hei(?:ß|ss)e"
        r"|me\s+llamo|mi\s+nombre\s+es|mi\s+chiamo|mijn\s+naam\s+is|ik\s+heet"
        rf"|meu\s+nome\s+é|me\s+chamo)\s+){_NAME}",
        0.6,
    ),
    Pattern(
        "I am, this is",
        rf"(?<=\b(?i:i\s+am|i['\u2019]m|this\s+is)\s+){_FULL_NAME}",
        0.6,
    ),
]


def _homes(text: str, addresses: list[RecognizerResult]) -> list[RecognizerResult]:
    """The addresses but those of a store, a branch...: where the company is."""
    return [
        address
        for address in addresses
        if not _PLACE_AFTER.match(text, address.end)
        and not _PLACE_BEFORE.search(text, 0, address.start)
    ]


class _StreetLine(PatternRecognizer):
    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return _homes(text, super().analyze(text, entities, nlp_artifacts, regex_flags))


class _PostalAddress(EntityRecognizer):
    """Whole US, Canadian and UK addresses, street to postcode, found by pyap2."""

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        # pyap2 takes milliseconds a text; the addresses it finds start with a number and
        # end with a state, a province or a postcode.
        if not (_STREET_NUMBER.search(text) and _REGION_OR_POSTCODE.search(text)):
            return []
        return _homes(
            text,
            [
                RecognizerResult("STREET_ADDRESS", match.start(), match.end(), 0.8)
                for country in ADDRESS_COUNTRIES
                for address in pyap.parse(text, country=country)
                for match in _as_written(address.full_address).finditer(text)
            ],
        )


_STREET_NUMBER = regex.compile(r"\b\d{1,6}[A-Za-z]?\s+\p{Lu}")
_REGION_OR_POSTCODE = regex.compile(
    r"\b(?:[A-Z]{2}|\d{5})\b|" + "|".join(pattern.regex for pattern in _STREET_PATTERNS[-2:])
)
_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2015"


def _as_written(address: str) -> regex.Pattern:
    """pyap2 finds addresses in its own tidied copy of the text (spaces and commas evened
    out, dashes made "-"), so its places can be off: the address is found again as
    written, whatever spaces, commas and dashes the customer used."""
    words = [
        regex.escape(word).replace("\\-", f"[{_DASH}]")
        for word in regex.split(r"[\s,]+", address.strip(" ,"))
    ]
    return regex.compile(r"[\s,]+".join(words))


class _Phone(PhoneRecognizer):
    """Any possible number of the regions, but not a date, a box's dimensions or a
    hexadecimal code ("error 0x80070005")."""

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
    if regex.fullmatch(r"0[xX][0-9A-Fa-f]+", candidate.strip()):
        return False
    try:
        date.fromisoformat(candidate.strip())
    except ValueError:
        return True
    return False


def _keel_recognizers() -> list[EntityRecognizer]:
    return [
        _Phone(supported_regions=PHONE_REGIONS, leniency=0),
        CreditCardRecognizer(
            patterns=[Pattern("digits, Luhn-checked", r"\b(?:\d[ -]?){11,18}\d\b", 0.3)]
        ),
        _Email(),
        _CardExpiry(
            supported_entity="CARD_EXPIRY",
            patterns=[Pattern("month/year", r"\b(?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}\b", 0.1)],
            context=EXPIRY_WORDS,
        ),
        PatternRecognizer(
            supported_entity="CARD_SECURITY_CODE",
            patterns=[
                Pattern(
                    "named code",
                    rf"(?<=\b(?:{_SECURITY_CODE_NAMES})\W{{0,3}}(?:(?:is|was|:)\W{{0,3}})?)\d{{3,4}}\b",
                    0.6,
                )
            ],
        ),
        PatternRecognizer(
            supported_entity="DATE_OF_BIRTH", patterns=_DATE_PATTERNS, context=BIRTH_WORDS
        ),
        _StreetLine(
            supported_entity="STREET_ADDRESS",
            patterns=_STREET_PATTERNS,
            global_regex_flags=regex.DOTALL | regex.MULTILINE,
        ),
        _PostalAddress(supported_entities=["STREET_ADDRESS"], name="pyap2"),
        PatternRecognizer(
            supported_entity="PERSON",
            patterns=_NAME_PATTERNS,
            global_regex_flags=regex.DOTALL | regex.MULTILINE,
        ),
    ]


@cache
def _analyzer() -> AnalyzerEngine:
    # Presidio checks URL domains with tldextract, which would fetch the public suffix list
    # from the internet on first use; its bundled copy is enough.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    nlp_engine = _BlankEnglish(models=[{"lang_code": "en", "model_name": "blank"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    for replaced in ["PhoneRecognizer", "CreditCardRecognizer", "EmailRecognizer"]:
        registry.remove_recognizer(replaced)
    for recognizer in _keel_recognizers():
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        nlp_engine=nlp_engine,
        registry=registry,
        supported_languages=["en"],
        # Context words are matched whole: "exp" is no context for "expect".
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
    )
