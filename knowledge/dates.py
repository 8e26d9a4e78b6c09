"""A document's effective date, read from its own text ("Effective 1 March 2025",
"Last updated: 2025-03-01", "Published March 1, 2025", and so in the other languages
Keel replies in: "Vigente desde el 1 de septiembre de 2025", "Stand: 1. März 2025"), and
a temporary notice's period ("From 20 December to 5 January", "Valid until 31 January
2026").

The cue words find the date; dateparser (a well-kept parser of dates written many ways)
reads it. When a document states several, the latest counts: a page effective in March
and revised in June says what holds since June.

A period is read from the document's opening only (its title and first lines): a notice
announces its own period first, while a range further down a page ("the shop is closed
from 24 to 26 December") is one of its facts, not the page's lifetime.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

from knowledge.languages import text_language

_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # names or abbreviations
)
_DATE = (
    rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}"  # ISO
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 1 March 2025 (UK)
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 1, 2025 (US)
    rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}"  # 03/01/2025, 01.03.2025
    rf"|{_MONTH}\s+\d{{4}}"  # March 2025
)
_CUE = (
    r"effective(?:\s+date|\s+from|\s+as\s+of|\s+on)?"
    r"|(?:last\s+)?(?:updated|reviewed|revised|modified)(?:\s+on)?"
    r"|published(?:\s+on)?"
)
# The other languages Keel replies in (settings.LANGUAGES): a page in one of them states
# its date in its own words, its month named in them ("1 de septiembre de 2025",
# "1. März 2025"); dateparser tells a month's name from any other word.
_CUE_ELSEWHERE = (
    r"vigente\s+desde(?:\s+el)?|en\s+vigor\s+desde(?:\s+el)?|actualizado(?:\s+el)?"  # es
    r"|última\s+actualización"
    r"|gültig\s+ab|stand(?=\s*:)|zuletzt\s+aktualisiert(?:\s+am)?|aktualisiert\s+am"  # de
    r"|en\s+vigueur\s+(?:depuis\s+le|à\s+compter\s+du|le)|mis\s+à\s+jour\s+le"  # fr
    r"|dernière\s+mise\s+à\s+jour"
    r"|em\s+vigor\s+desde|atualizado\s+em|última\s+atualização"  # pt
    r"|in\s+vigore\s+dal|aggiornato\s+al|ultimo\s+aggiornamento"  # it
    r"|geldig\s+vanaf|laatst\s+bijgewerkt(?:\s+op)?|bijgewerkt\s+op"  # nl
)
_WORDED_DATE = r"\d{1,2}(?:\.|er|º)?\s+(?:de\s+)?[^\W\d_]{3,}\.?\s+(?:de\s+)?\d{4}"
_STATED = re.compile(
    rf"\b(?:{_CUE}|{_CUE_ELSEWHERE})\s*[:\-\u2013\u2014]?\s*(?:on\s+)?"
    rf"(?P<date>{_DATE}|{_WORDED_DATE})\b",
    re.IGNORECASE,
)
_PARSER_SETTINGS = {"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["month", "year"]}
# English first: a date in digits reads month first, as it did before other languages.
_OTHER_LANGUAGES = ["es", "de", "fr", "pt", "it", "nl"]

# A period's ends may leave out the year ("20 December"): the notice's own date tells it.
_PERIOD_DATE = (
    rf"{_DATE}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}"  # 20 December
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"  # December 20
)
_UNTIL = r"to|until|till|through|thru|and"
_DASH = r"[\-\u2013\u2014]"
_RANGE = re.compile(
    rf"\b(?:from|between)\s+(?P<start>{_PERIOD_DATE})\s*(?:{_UNTIL}|{_DASH})\s*"
    rf"(?P<end>{_PERIOD_DATE})"
    rf"|(?P<dashed_start>{_PERIOD_DATE})\s*{_DASH}\s*(?P<dashed_end>{_PERIOD_DATE})",
    re.IGNORECASE,
)
_ENDS = re.compile(
    rf"\b(?:until|till|ends?(?:\s+on)?|expires?(?:\s+on)?|valid\s+(?:through|thru|to))"
    rf"\s+(?P<end>{_PERIOD_DATE})",
    re.IGNORECASE,
)
_STARTS = re.compile(
    rf"\b(?:valid\s+from|starting(?:\s+on|\s+from)?|starts\s+on|begins\s+on)"
    rf"\s+(?P<start>{_PERIOD_DATE})",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b\d{4}\b")
_NUMERIC = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2\d{4}\b")
# How much of a document's opening is read for its period.
OPENING_CHARACTERS = 600


@dataclass(frozen=True)
class Period:
    """When a notice applies: either end may be open (None)."""

    valid_from: date | None = None
    valid_until: date | None = None


def stated_effective_date(text: str) -> date | None:
    """The latest date the text gives as its effective, update, review or publication
    date; None when it states none."""
    order = numeric_date_order(text)
    dates = [_parsed(match["date"], order=order) for match in _STATED.finditer(text)]
    return max((found for found in dates if found), default=None)


def numeric_date_order(text: str) -> str:
    """How the text writes dates in digits, "MDY" or "DMY": 03/04/2025 is 4 March in the
    US and 3 April almost everywhere else. The text tells when it can: dots are written
    day first (03.04.2025), and a first number above 12 is a day (13/04/2025), a second
    one a month's (04/13/2025). Else a page in English reads month first, as American
    help centers write, and a page in any other language day first."""
    written = _NUMERIC.findall(text)
    if not written:
        return "MDY"  # no date in digits to read either way
    dotted = slashed_day_first = slashed_month_first = False
    for first, separator, second in written:
        dotted |= separator == "."
        slashed_day_first |= separator == "/" and int(first) > 12
        slashed_month_first |= separator == "/" and int(second) > 12
    if dotted or slashed_day_first:
        return "DMY"
    if slashed_month_first or text_language(text=text) == "en":
        return "MDY"
    return "DMY"


def _parsed(written: str, *, order: str = "MDY") -> date | None:
    settings = (
        {**_PARSER_SETTINGS, "DATE_ORDER": order}
        if _NUMERIC.fullmatch(written)
        else _PARSER_SETTINGS
    )
    parsed = dateparser.parse(written, languages=["en"], settings=settings) or dateparser.parse(
        written, languages=_OTHER_LANGUAGES, settings=settings
    )
    return parsed.date() if parsed else None


def stated_period(text: str, *, written: date) -> Period:
    """The period the opening of the text gives itself, the year of an end that leaves it
    out taken from `written` (the date the notice was written, or else received): the
    period that runs at that date, or the next one. A period over before the text was
    written is history it tells ("between March 2010 and May 2012, …"), not its own."""
    period = _period(text[:OPENING_CHARACTERS], written=written)
    if period.valid_until and period.valid_until < written:
        return Period()
    return period


def _period(opening: str, *, written: date) -> Period:
    if found := _RANGE.search(opening):
        start = found["start"] or found["dashed_start"]
        end = found["end"] or found["dashed_end"]
        if _YEAR.search(start) and not _YEAR.search(end):
            valid_from = _day(start, base=written, prefer="current_period", first=True)
            return Period(
                valid_from=valid_from,
                valid_until=valid_from and _day(end, base=valid_from, prefer="future"),
            )
        valid_until = _day(end, base=written - timedelta(days=1), prefer="future")
        return Period(
            valid_from=valid_until and _day(start, base=valid_until, prefer="past", first=True),
            valid_until=valid_until,
        )
    starts, ends = _STARTS.search(opening), _ENDS.search(opening)
    return Period(
        valid_from=starts
        and _day(starts["start"], base=written, prefer="current_period", first=True),
        valid_until=ends and _day(ends["end"], base=written - timedelta(days=1), prefer="future"),
    )


_ASKED_DATE = re.compile(rf"\b(?:{_PERIOD_DATE})(?!\d)", re.IGNORECASE)
# A message names a few days; parsing each takes a millisecond, so a long list stops here.
MAX_DAYS_ASKED = 5


def days_asked(*, text: str, today: date) -> list[date]:
    """Today, and the days a customer's message names ("can I return it on January 10,
    2026?", "from December 20 to December 29, 2025"): what holds on those days answers
    it, a temporary notice in force then included. A day written without its year takes
    the year of the next date written with one ("December 20 to December 29, 2025"), else
    is the one nearest today ("on 3 January", asked in December, is next month's)."""
    written = [found[0] for found in _ASKED_DATE.finditer(text)][:MAX_DAYS_ASKED]
    if not written:  # most messages: no parsing
        return [today]
    order = numeric_date_order(text)
    days = [today]
    for position, words in enumerate(written):
        years = (found[0] for later in written[position:] if (found := _YEAR.search(later)))
        year = next(years, None)
        dated = words if _YEAR.search(words) else f"{words} {year or today.year}"
        day = _parsed(dated, order=order)
        if day and year is None:
            day = _nearest(day, today=today)
        if day:
            days.append(day)
    return days


def _nearest(day: date, *, today: date) -> date:
    """The day and month of `day` in the year that brings it nearest `today`."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(day.replace(year=year))
        except ValueError:  # 29 February
            continue
    return min(candidates, key=lambda candidate: abs(candidate - today))


def _day(written: str, *, base: date, prefer: str, first: bool = False) -> date | None:
    """One end of a period, its missing year the one `prefer`red from `base`; a month
    without a day ("until January 2026") starts on its first day and ends on its last."""
    parsed = dateparser.parse(
        written,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime.combine(base, datetime.min.time()),
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first" if first else "last",
            "REQUIRE_PARTS": ["month"],
        },
    )
    return parsed.date() if parsed else None


# A page speaking of itself ("This policy replaces the membership policy dated 1 February
# 2024", "It supersedes our Membership Policy (2024)", "Replaces: the version of March 2023"),
# what it replaces named up to the sentence's end; "The Gold plan replaces the Silver
# plan" speaks of plans, not of pages.
_REPLACES = re.compile(
    r"(?:^|(?<=[.!?:\n])\s*)(?:(?:this|these)(?:\s+[^\W\d_]+){1,3}|it)?\s*"
    r"\b(?P<cue>replaces|supersedes)\b\s*:?(?P<named>(?:[^.\n]|\.(?=\s*\d))*)",
    re.IGNORECASE,
)
_NAMED_DATE = re.compile(
    rf"(?P<day>\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}})"
    rf"|(?P<month>{_MONTH}\s+\d{{4}})"
    rf"|(?P<year>\b\d{{4}}\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Replacement:
    """What a page says it replaces: the words naming it, and the date it gives it, as
    precisely as written ("1 February 2024": the day; "March 2023": the month; "2024")."""

    statement: str
    named: str  # the words after "replaces", its date left out
    named_date: date | None = None
    precision: str = ""  # "day", "month" or "year"

    def dates_match(self, effective_date: date | None) -> bool:
        if not self.named_date or not effective_date:
            return False
        parts = {"day": 3, "month": 2, "year": 1}[self.precision]
        as_tuple = (effective_date.year, effective_date.month, effective_date.day)
        named = (self.named_date.year, self.named_date.month, self.named_date.day)
        return as_tuple[:parts] == named[:parts]


def stated_replacement(text: str) -> Replacement | None:
    """The first statement of the text that it replaces an earlier document, if any."""
    found = _REPLACES.search(text)
    if not found:
        return None
    named = found["named"]
    written = _NAMED_DATE.search(named)
    if not written:
        return Replacement(statement=found[0].strip(), named=named.strip())
    precision = written.lastgroup
    named_date = (
        date(int(written["year"]), 1, 1)
        if precision == "year"
        else _parsed(written[0], order=numeric_date_order(text))
    )
    return Replacement(
        statement=found[0].strip(),
        named=(named[: written.start()] + named[written.end() :]).strip(),
        named_date=named_date,
        precision=precision if named_date else "",
    )
