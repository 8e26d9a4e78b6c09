"""A document's effective date, read from its own text ("Effective 1 March 2025",
"Last updated: 2025-03-01", "Published March 1, 2025").

The cue words find the date; dateparser (a well-kept parser of dates written many ways)
reads it. When a document states several, the latest counts: a page effective in March
and revised in June says what holds since June.
"""

import re
from datetime import date

import dateparser

_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # names or abbreviations
)
_DATE = (
    rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}"  # ISO
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 1 March 2025 (UK)
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 1, 2025 (US)
    rf"|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{4}}"  # 03/01/2025
    rf"|{_MONTH}\s+\d{{4}}"  # March 2025
)
_CUE = (
    r"effective(?:\s+date|\s+from|\s+as\s+of|\s+on)?"
    r"|(?:last\s+)?(?:updated|reviewed|revised|modified)(?:\s+on)?"
    r"|published(?:\s+on)?"
)
_STATED = re.compile(
    rf"\b(?:{_CUE})\s*[:\-\u2013\u2014]?\s*(?:on\s+)?(?P<date>{_DATE})\b", re.IGNORECASE
)
_PARSER_SETTINGS = {"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["month", "year"]}


def stated_effective_date(text: str) -> date | None:
    """The latest date the text gives as its effective, update, review or publication
    date; None when it states none."""
    dates = [_parsed(match["date"]) for match in _STATED.finditer(text)]
    return max((found for found in dates if found), default=None)


def _parsed(written: str) -> date | None:
    parsed = dateparser.parse(written, languages=["en"], settings=_PARSER_SETTINGS)
    return parsed.date() if parsed else None
