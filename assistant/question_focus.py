"""What a question asks for: its content words, and the kind of fact that answers it.

"How much does delivery to zone B cost?" wants a sentence holding an amount, "How long
does a refund take?" a duration, "When is the shop open on Sundays?" times of day. The
extractive answerer prefers sentences that hold the question's words and the fact it asks
for over ones that merely read like the question. Words are compared casefolded and
stemmed (Snowball's English stemmer: "shipping" and "shipped" are one word); function
words and the question's own wording ("how", "much", "please") carry nothing.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from knowledge.languages import text_language, word_stem

# Function words and the words questions are phrased with, which say nothing about the
# subject; written out rather than taken from a library's list, which holds words that
# matter in support questions ("call", "back", "move", "keep", "full").
_UNWEIGHED = frozenset(
    """
    a about after all also am an and any anything are as at be because been before being
    but by can could did do does doing done for from get gets got had has have having he her
    here him his how i if in into is it its i'm i've i'd just let me might more most much
    must my myself of on or our ours out please she should so some something than that the
    their them then there these they this those to too under up us very was we were what
    whats what's when where which while who whom why will with would you your yours you're
    know tell thanks thank hi hello want need like no not yes one
    """.split()  # noqa: SIM905 (a list of 130 quoted words would read worse)
)
_WORD = re.compile(r"\w+(?:'\w+)?")
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|forty|forty-five|sixty|ninety|a few|several)"
)
_TIME_UNIT = r"(?:minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?)"


class FactKind(StrEnum):
    AMOUNT = "amount"  # a price, fee or charge, or that there is none
    DURATION = "duration"  # a number of days, hours, weeks…
    CLOCK_TIME = "clock time"  # opening hours, a time of day
    DATE = "date"  # a day of a month, a weekday
    COUNT = "count"  # any number


# What a question's wording asks for.
_ASKS = {
    FactKind.AMOUNT: re.compile(
        r"\bhow much\b|\bwhat\b[^.?!]*\b(?:costs?|prices?|fees?|charges?|pay|rates?)\b"
        r"|\b(?:is|are) there (?:\w+ ){0,3}(?:fees?|charges?|costs?)\b"
        r"|\b(?:do|does|will|would) (?:\w+ ){0,3}(?:cost|charge)\b"
    ),
    FactKind.DURATION: re.compile(
        rf"\bhow (?:long|soon|quickly|fast)\b|\bhow many (?:\w+ )?{_TIME_UNIT}\b"
        r"|\bwithin how\b"
    ),
    FactKind.CLOCK_TIME: re.compile(
        r"\bwhat time\b|\bhours\b|\bopening\b|\bclosing time\b"
        r"|\bwhen (?:\w+ ){0,4}(?:open|close)s?\b|\b(?:is|are) (?:\w+ ){0,4}open\b"
    ),
    FactKind.DATE: re.compile(
        r"^when\b|[.?!,;]\s+when\b|\bwhen (?:will|do|does|did|is|are|can|should|must)\b"
        r"|\bwhat (?:date|day)\b|\bwhich (?:date|day)\b|\bdeadline\b|\b(?:by|until) when\b"
    ),
    FactKind.COUNT: re.compile(r"\bhow many\b"),
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_CLOCK = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}[:.]\d{2}\b"
    r"|\b24 hours\b|\b24/7\b|\bclosed\b|\bnoon\b|\bmidnight\b",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"\b(?:\d+(?:[.,]\d+)?|{_NUMBER_WORD})(?:\s?(?:-|\u2013|to|or)\s?\d+)?[\s-]*"
    rf"(?:(?:business|calendar|working|full)[\s-]+)?{_TIME_UNIT}\b"
    r"|\bsame[- ]day\b|\bnext[- ]day\b|\bovernight\b|\bimmediately\b|\binstantly\b",
    re.IGNORECASE,
)
# What a sentence states, by kind; a date also answers by the days it takes.
_STATES = {
    FactKind.AMOUNT: re.compile(
        r"[$€£¥₹]\s?\d|\d(?:[\d.,]*\d)?\s?(?:USD|EUR|GBP|CAD|AUD|dollars?|euros?|cents?)\b"
        r"|\bfree\b|\bno (?:\w+ )?(?:charge|cost|fee)s?\b|\bat no (?:extra )?cost\b"
        r"|\b(?:charge|cost|fee|price)s?\W+(?:\w+\W+){0,3}none\b",
        re.IGNORECASE,
    ),
    FactKind.DURATION: _DURATION,
    FactKind.CLOCK_TIME: _CLOCK,
    FactKind.DATE: re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|\b{_MONTH}\s+\d{{1,2}}\b"
        r"|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b"
        r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b"
        rf"|{_DURATION.pattern}|{_CLOCK.pattern}",
        re.IGNORECASE,
    ),
    FactKind.COUNT: re.compile(rf"\d|\b{_NUMBER_WORD}\b", re.IGNORECASE),
}


# "How do I…" asks for a procedure: the steps of a list, not one of them.
_ASKS_STEPS = re.compile(r"\bhow (?:do|can|should|would) (?:i|we)\b|\bhow to\b")


@dataclass(frozen=True)
class QuestionFocus:
    terms: frozenset[str]  # stemmed content words
    wants: frozenset[FactKind]
    wants_steps: bool = False


def question_focus(*, question: str) -> QuestionFocus:
    """The question's content words and the kinds of fact it asks for; nothing for a
    question in another language than English, which is answered on meaning alone."""
    if text_language(text=question) != "en":
        return QuestionFocus(terms=frozenset(), wants=frozenset())
    asked = question.casefold()
    wants = {kind for kind, asks in _ASKS.items() if asks.search(asked)}
    if FactKind.DURATION in wants:  # "how many days" asks for days, not any number
        wants.discard(FactKind.COUNT)
    return QuestionFocus(
        terms=content_terms(question),
        wants=frozenset(wants),
        wants_steps=bool(_ASKS_STEPS.search(asked)),
    )


def content_terms(text: str) -> frozenset[str]:
    """The text's words that say what it is about, casefolded and stemmed."""
    words = [
        word
        for word in _WORD.findall(text.casefold().replace("\u2019", "'"))
        if word not in _UNWEIGHED and (len(word) > 1 or word.isdigit())
    ]
    return frozenset(word_stem(word=word, language="en") for word in words)


def facts_stated(*, text: str) -> frozenset[FactKind]:
    """The kinds of fact the sentence states (an amount, a duration, …)."""
    return frozenset(kind for kind, states in _STATES.items() if states.search(text))
