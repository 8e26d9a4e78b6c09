"""What a question asks for: its content words, and the kind of fact that answers it.

"How much does delivery to zone B cost?" wants a sentence holding an amount, "How long
does a refund take?" a duration, "When is the shop open on Sundays?" times of day. The
extractive answerer prefers sentences that hold the question's words and the fact it asks
for over ones that merely read like the question. Words are compared casefolded and
stemmed (Snowball's English stemmer: "shipping" and "shipped" are one word); function
words and the question's own wording ("how", "much", "please") carry nothing. The kind of
fact is read in every language Keel replies in ("¿Cuánto tarda…?" wants a duration); a
question in another language than English is otherwise weighed on meaning alone.
"""

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from sentencex import segment

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
# Words a customer frames a question with, greets or hesitates: no thing asked about
# ("could you help me out?").
FRAMING = frozenset(
    """
    hey hiya um uh erm yeah okay ok morning afternoon evening wondering wonder enquiring
    inquiring asking guidance advice doubt doubts info information help question questions
    """.split()  # noqa: SIM905 (a list of quoted words would read worse)
)
_WORD = re.compile(r"\w+(?:'\w+)?")
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|forty|forty-five|sixty|ninety|a few|several)"
)
_TIME_UNIT = (
    r"(?:minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|months?|years?"
    # the other languages Keel replies in: es, de, fr, pt, it, nl
    r"|minutos?|horas?|d[ií]as?|semanas?|mes(?:es)?|años?"
    r"|minuten|stunden?|tagen?|tage|wochen?|monaten?|monate|jahren?|jahre"
    r"|heures?|jours?|mois|ans|années?"
    r"|anos?"
    r"|minut[oi]|or[ae]|giorn[oi]|settiman[ae]|mes[ei]|ann[oi]"
    r"|minuut|uur|uren|dagen|dag|weken|maanden?|jaren|jaar)"
)


class FactKind(StrEnum):
    AMOUNT = "amount"  # a price, fee or charge, or that there is none
    DURATION = "duration"  # a number of days, hours, weeks…
    CLOCK_TIME = "clock time"  # opening hours, a time of day
    DATE = "date"  # a day of a month, a weekday
    COUNT = "count"  # any number
    PLACE = "place"  # a street address


# What a question's wording asks for, in English and in the other languages Keel replies
# in (es, de, fr, pt, it, nl): "¿A qué hora abre…?" asks for a time of day as "What time
# does … open?" does.
_ASKS = {
    FactKind.AMOUNT: re.compile(
        r"\bhow much\b|\bwhat\b[^.?!]*\b(?:costs?|prices?|fees?|charges?|pay|rates?)\b"
        r"|\b(?:is|are) there (?:\w+ ){0,3}(?:fees?|charges?|costs?)\b"
        r"|\b(?:do|does|will|would) (?:\w+ ){0,3}(?:cost|charge)\b"
        r"|\bcu[aá]nt[oa]\b(?! (?:tiempo|tarda|demora|dura))"
        r"|\b(?:precio|costo|coste|cargo|tarifa|cuota)s?\b"
        r"|\bwie ?viel\b(?! zeit)|\bwie hoch\b|\bkostet\b|\bgebühr|\bpreis"
        r"|\bcombien\b(?! de)|\bco[uû]te(?:nt)?\b|\b(?:prix|tarifs?|frais)\b"
        r"|\bquanto\b(?! (?:tempo|demora|dura|leva|ci vuole))"
        r"|\bcusta(?:m)?\b|\bpre[cç]os?\b|\btaxas?\b"
        r"|\bcosta(?:no)?\b(?! rica)|\bprezz[oi]\b|\btariff[ae]\b"
        r"|\bhoeveel kost|\bwat kost|\bprijs|\btarie[fv]"
    ),
    # A noun can ask as plainly as "how long": "what's the return window?", "the notice
    # period", "is there a time limit?".
    FactKind.DURATION: re.compile(
        rf"\bhow (?:long|soon|quickly|fast)\b|\bhow many (?:\w+ )?{_TIME_UNIT}\b"
        r"|\bwithin how\b|\b(?:window|period|time ?limit|time ?frame|timeline|duration)s?\b"
        r"|\b(?:cu[aá]nto (?:tiempo|tarda|demora|dura)|wie lange|combien de temps|hoe lang)\b"
        r"|\bquanto (?:tempo|demora|dura|leva|ci vuole)\b"
        rf"|\b(?:cu[aá]nt[oa]s|wie viele|combien de|quant[oaie]s?|hoeveel) (?:\w+ )?{_TIME_UNIT}\b"
        r"|\b(?:plazo|frist|d[ée]lai|prazo|termijn)s?\b"
    ),
    FactKind.CLOCK_TIME: re.compile(
        r"\bwhat time\b|\bhours\b|\bopening\b|\bclosing time\b"
        r"|\bwhen (?:\w+ ){0,4}(?:open|close)s?\b|\b(?:is|are) (?:\w+ ){0,4}open\b"
        r"|\ba qu[eé] hora\b|\bhorarios?\b|\bum wie ?viel uhr\b|\böffnungszeit"
        r"|\b[àa] quelle heure\b|\bhoraires?\b|\ba que horas\b|\bhor[áa]rios?\b"
        r"|\ba che ora\b|\borari[oi]?\b|\bhoe laat\b|\bopeningstijden\b|\bopeningsuren\b"
    ),
    FactKind.DATE: re.compile(
        r"^when\b|[.?!,;]\s+when\b"
        r"|\bwhen (?:will|would|do|does|did|is|are|can|could|should|must|may)\b"
        r"|\bwhat (?:date|day)\b|\bwhich (?:date|day)\b|\b(?:by|until) when\b"
        r"|\b(?:deadline|cut-?off|due date|expiry|expiration)s?\b"
        r"|(?:^|[.?!,;]\s+)[¿¡]?(?:cu[aá]ndo|wann|quand|quando|wanneer)\b"
    ),
    FactKind.COUNT: re.compile(
        r"\bhow many\b|\b(?:limit|maximum|minimum|allowance)s?\b"
        r"|\bcu[aá]nt[oa]s\b|\bwie viele\b|\bcombien de\b|\bquant[oa]s\b|\bquant[ie]\b"
        r"|\bhoeveel\b"
    ),
    FactKind.PLACE: re.compile(
        r"\bwhere(?:'s| is| are)\b|\baddress(?:es)?\b|\blocated\b"
        r"|\bd[oó]nde\b|\bwo (?:ist|sind|finde|befindet|gibt)\b|\boù\b|\bonde\b"
        r"|\bdove (?:si|è|sono|trovo|posso)\b|\bwaar (?:is|zijn|vind|zit)\b"
    ),
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
    # A street line: "221 Baker Street", "12 rue de la Paix", "Hauptstraße 5".
    FactKind.PLACE: re.compile(
        r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'.-]*\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave"
        r"|Boulevard|Blvd|Way|Lane|Ln|Drive|Dr|Place|Pl|Court|Ct|Square|Sq|Parkway|Pkwy"
        r"|Highway|Hwy|Terrace|Quay|Pier)\b"
        r"|\b\d{1,5},?\s+(?:rue|avenue|boulevard|calle|avenida|via|viale|rua)\s"
        r"|\b\w+(?:stra(?:ß|ss)e|weg|platz|gasse|straat|laan|plein)\s+\d{1,5}\b",
        re.IGNORECASE,
    ),
}


# "How do I…" asks for a procedure: the steps of a list, not one of them.
_ASKS_STEPS = re.compile(r"\bhow (?:do|can|should|would) (?:i|we)\b|\bhow to\b")


# Where a question asks a second thing: ", and how long…", " or can I…", "; when…".
_ASKING = (
    r"(?:how|what|when|where|which|who|why|whether|is there|are there"
    r"|(?:do|does|did|can|could|will|would|should|is|are|must|may)"
    r" (?:i|we|you|it|they|he|she|there|my|our|your|the|this|that|these|those)\b)"
)
_PART_BOUNDARY = re.compile(
    rf"(?:\s*[,;]\s*(?:(?:and also|and|or|also|plus)\s+)?|\s+(?:and also|and|or|also)\s+)"
    rf"(?={_ASKING})",
    re.IGNORECASE,
)
# Where a clause that asks follows a lead-in in the same sentence.
_ASKING_CLAUSE = re.compile(rf"[,;:]\s*(?={_ASKING})", re.IGNORECASE)
# A sentence that asks without a question mark: "I'd like to know the manager's name."
_REQUESTING = (
    r"(?:i(?:'d| would) like to know|i (?:want|wanted|need|needed) to know|i wonder"
    r"|(?:please |can you |could you )?(?:tell me|let me know))\b"
)
_ASKS_SOMETHING = re.compile(rf"^(?:{_ASKING}|{_REQUESTING})|[?\uff1f]$", re.IGNORECASE)
_PART_MIN_WORDS = 3  # "and when?" alone says too little to be searched for on its own
# Two things one may do, asked at once: "Can a second cardholder raise the limit or close
# the account?" is two asks, each with the words before its first verb. A verb is told
# by what follows it (an object's determiner); a noun after "or" is not ("…by card or cash"),
# nor a word that names nothing ("on my account" before the actions).
_OBJECT = r"(?:the|a|an|my|our|your|their|his|her|its|this|that|it|them)"
_NAMING = rf"(?!(?:{'|'.join(map(re.escape, sorted(_UNWEIGHED)))})\s)"
_TWO_ACTIONS = re.compile(
    rf"^(?P<head>(?:can|could|may|do|does|will|would|should|must)\b.*?)\s"
    rf"{_NAMING}(?P<verb>[a-z]+)\s(?P<first>{_OBJECT}\b.*?)\s(?:or|and)\s"
    rf"(?P<other>[a-z]+)\s(?P<second>{_OBJECT}\b.*)$",
    re.IGNORECASE,
)

# A number of something the question names: "12 lines", "three devices", "8 days".
_NUMBERS = {
    word: value
    for value, word in enumerate(
        "one two three four five six seven eight nine ten eleven twelve".split(),  # noqa: SIM905
        start=1,
    )
}
_COUNTED = re.compile(rf"(?<![$€£¥₹\d.,])\b(\d+|{'|'.join(_NUMBERS)})\s+([a-z]+)\b")
# A table row naming a range of counts: "2-4", "5 to 9 lines", "10+", "up to 3", "1 line".
_RANGE = re.compile(
    r"^(?:(?P<low>\d+)\s*(?:-|\u2013|\u2014|to)\s*(?P<high>\d+)"
    r"|(?P<least>\d+)\s*\+|(?P<below>under|fewer than|less than|up to)\s+(?P<most>\d+)"
    r"|(?P<only>\d+))\s*(?P<unit>[a-z]+)?\s*(?P<more>\+|or more|and (?:up|over|above))?$",
    re.IGNORECASE,
)


# A question asking whether: "Can I pause…?", "Do you ship…?", "Is there a fee…?". Its
# auxiliary, and the word after its subject: what a sentence must say, or deny, to be
# answered with a "Yes" or a "No".
_WHETHER = re.compile(
    r"^(?P<aux>can|could|may|do|does|will|is|are)\s+(?P<subject>i|we|you|it|they|there)\s+"
    r"(?:(?:a|an|any|some|still|also|just|really|ever)\s+)*(?P<word>[a-z]+)\b"
)
_NEGATIONS = frozenset("not no never cannot nothing none without".split())  # noqa: SIM905
# A sentence that states a condition or an exception says "it depends", not yes or no.
_HEDGES = frozenset("only unless except but however depending depends".split())  # noqa: SIM905
# Before the word, what makes a sentence say it: "you can pause", "there is a fee".
_AFFIRMING = {
    "can": frozenset("can may could able".split()),  # noqa: SIM905
    "there": frozenset("is are a an".split()),  # noqa: SIM905
}
_SAYING = frozenset("i we you it they can will is are be also always".split())  # noqa: SIM905
# "Can I use (get, pay with…) X?" is answered as plainly by "X is available (accepted,
# supported…)", said of X with "is", "are" or "has been" before it.
_HAVING = frozenset("use get have buy order add choos book pay".split())  # noqa: SIM905
_AVAILABLE = frozenset("avail accept support includ offer".split())  # noqa: SIM905
_BEING = frozenset("is are be been also now".split())  # noqa: SIM905


@dataclass(frozen=True)
class Whether:
    """What a yes/no question asks about: "can" (may, could) or "there" or another
    auxiliary, and the stemmed word after its subject ("paus" of "Can I pause…?")."""

    aux: str
    word: str


@dataclass(frozen=True)
class Count:
    value: int
    unit: str  # stemmed: "line", "day"


@dataclass(frozen=True)
class CountRange:
    low: float
    high: float
    unit: str | None  # stemmed, when the row names it

    def holds(self, count: Count) -> bool:
        return self.low <= count.value <= self.high and self.unit in (None, count.unit)


@dataclass(frozen=True)
class QuestionFocus:
    terms: frozenset[str]  # stemmed content words
    wants: frozenset[FactKind]
    wants_steps: bool = False
    counts: frozenset[Count] = frozenset()  # "12 lines": numbers of things it names
    whether: Whether | None = None  # a yes/no question's predicate
    # The content words of its asking clauses; the rest of `terms` only set the scene
    # ("I opened my new X7 phone: is there a restocking fee?" asks about the fee).
    asked: frozenset[str] = frozenset()

    def scene_only(self, terms: frozenset[str]) -> bool:
        """Whether these words hold the question's scene-setting words but none of what
        it asks: a sentence about the phone named, not about the fee asked for. Nothing
        is, when the asking clause names nothing of its own ("If I buy the X7, how much
        is it?" asks about the X7)."""
        scene = self.terms - self.asked
        return bool(self.asked and terms & scene) and not terms & self.asked


def question_parts(*, question: str) -> list[str]:
    """The things a question asks, each on its own: its sentences that ask, each split
    where a clause starts asking again ("How do I pause it, and how long can it last?").
    A lead-in that only sets the scene ("If I move abroad, …") stays with what it leads
    to; a message that asks nothing in so many words is one part."""
    parts: list[str] = []
    for sentence in _asking_sentences(question):
        pieces = _PART_BOUNDARY.split(sentence)
        if not _ASKS_SOMETHING.search(pieces[0]) and len(pieces) > 1:
            pieces[:2] = [f"{pieces[0]}, {pieces[1]}"]
        for piece in (action for each in pieces for action in _actions(each)):
            if parts and len(piece.split()) < _PART_MIN_WORDS:
                parts[-1] = f"{parts[-1]} and {piece}"
            else:
                parts.append(piece)
    return parts or [question]


def _asking_sentences(question: str) -> list[str]:
    return [
        sentence.strip()
        for sentence in segment(text_language(text=question), question)
        if _ASKS_SOMETHING.search(sentence.strip())
    ]


def asks_apart(*, question: str) -> list[str]:
    """The asks of a question that asks several things in one sentence, each naming what
    it asks ("How much is the late fee, and do you sell solar panels?"): each can be
    searched for and judged on its own. Otherwise the question, whole: a second sentence
    often asks the first again in other words ("Who runs it? I'd like the CEO's name."),
    and an ask that points back ("…, and how much is it?") means nothing alone."""
    parts = question_parts(question=question)
    if len(parts) < 2 or len(_asking_sentences(question)) != 1:
        return [question]
    return parts if question_focus(question=question).asked else [question]


def _actions(piece: str) -> list[str]:
    """A yes/no ask of two actions joined by "or" or "and", as two asks; else the piece."""
    match = _TWO_ACTIONS.match(piece)
    if not match or {match["verb"].casefold(), match["other"].casefold()} & _UNWEIGHED:
        return [piece]
    head = match["head"]
    return [
        f"{head} {match['verb']} {match['first']}?",
        f"{head} {match['other']} {match['second']}",
    ]


def asking_clauses(*, question: str) -> list[str]:
    """What each part of the question asks, without the lead-in that sets its scene
    ("Forget my last order, I want another: how do I cancel it?" asks "how do I cancel
    it?"): the help center may say the scene in other words, but must state what is asked."""
    return [_ASKING_CLAUSE.split(part)[-1] for part in question_parts(question=question)]


def question_focus(*, question: str) -> QuestionFocus:
    """The question's content words and the kinds of fact it asks for; for a question in
    another language than English, the kinds of fact only: its words are weighed on
    meaning alone."""
    asked = question.casefold()
    wants = {kind for kind, asks in _ASKS.items() if asks.search(asked)}
    if FactKind.DURATION in wants:  # "how many days" asks for days, not any number
        wants.discard(FactKind.COUNT)
    if text_language(text=question) != "en":
        return QuestionFocus(terms=frozenset(), wants=frozenset(wants))
    clauses = asking_clauses(question=question)
    return QuestionFocus(
        terms=content_terms(question),
        wants=frozenset(wants),
        wants_steps=bool(_ASKS_STEPS.search(asked)),
        counts=frozenset(
            Count(value=int(_NUMBERS.get(number, number)), unit=_stem(unit))
            for number, unit in _COUNTED.findall(asked)
            if unit not in _UNWEIGHED
        ),
        # a yes/no question may follow a lead-in: "If I send it back, is there a fee?"
        whether=_whether(clauses[0].casefold()) if len(clauses) == 1 else None,
        asked=_asked_apart(clauses),
    )


# A word of an asking clause pointing back at its scene: "What would that cost?"
_POINTING_BACK = frozenset("it its that this these those they them one ones".split())  # noqa: SIM905


def _asked_apart(clauses: list[str]) -> frozenset[str]:
    """The content words of the asking clauses, when each names what it asks on its own;
    nothing when one names nothing ("What do I have to do?", "Could you help me?") or
    points back at the scene ("What would that cost?", "Which one should I pick?"): then
    the scene is what it asks about."""
    said = [_WORD.findall(clause.casefold()) for clause in clauses]
    if any(_POINTING_BACK & set(words) for words in said):
        return frozenset()
    asked = [content_words(clause) for clause in clauses]
    names = all(any(word not in FRAMING for _, word in words) for words in asked)
    return frozenset(_stem(word) for words in asked for _, word in words) if names else frozenset()


def _whether(asked: str) -> Whether | None:
    match = _WHETHER.match(asked.strip())
    if not match:
        return None
    aux = "there" if match["subject"] == "there" else match["aux"]
    return Whether(aux="can" if aux in ("could", "may") else aux, word=_stem(match["word"]))


def whether_stated(*, whether: Whether, text: str) -> bool | None:
    """True when the sentence plainly says what a yes/no question asks ("You can pause
    your membership…", "E-bikes are available at every shop" to "Can I get an e-bike…?"),
    False when it plainly denies it ("You cannot bring…", "There is no fee…"), None when
    it does not say, says both, or says it with a condition. The word said another way
    ("…, then tap Pause") says neither."""
    words = _WORD.findall(text.casefold().replace("\u2019", "'"))
    if _HEDGES & set(words) or words[:1] in (["yes"], ["no"]):
        return None  # a sentence opening with its own yes or no needs no other
    verdicts = set()
    for index, word in enumerate(words):
        stem = _stem(word)
        if stem == whether.word:
            affirming = _AFFIRMING.get(whether.aux, _SAYING)
        elif stem in _AVAILABLE and whether.word in _HAVING:
            affirming = _BEING
        else:
            continue
        before = words[max(0, index - 3) : index]
        if any(other in _NEGATIONS or other.endswith("n't") for other in before):
            verdicts.add(False)
        elif affirming & set(before):
            verdicts.add(True)
    return verdicts.pop() if len(verdicts) == 1 else None


def kind_named(*, question: str, text: str, common: frozenset[str] = frozenset()) -> bool:
    """Whether the text names a thing the question names by name only as another kind of
    it: the name going on where the question's stops ("Kestrel K7 Fold" to "the Kestrel
    K7"), or turning where it goes on ("Nova 8", "Nova 9 Pro" to "the Nova 9"), and
    nowhere as the question writes it (a table row naming the plan asked beside others is
    about it too). What it says holds for that model or plan, not for the one asked.
    `common`: words that tell no page apart (the company's name); dates are no kinds.
    Only a question naming a model by its number ("K7", "Nova 9") has kinds of it: a name
    without one going on ("Canada" in "Canada Post", "Canada Day") is no other kind."""
    asked = _Words(question)
    if not any(asked.model_numbered(index) for index in asked.content):
        return False
    said = set(asked.stems) | common
    # a name's words: capitalised ones, and a number going on with one ("Nova 9")
    numbered = {asked.stems[index] for index in asked.content if asked.numbered(index)}
    names = {
        asked.stems[index]
        for index in asked.content
        if asked.capitalised(index)
        and not _DATE_NAME.fullmatch(asked.words[index][0])
        and (asked.words[index][0][:1].isalpha() or asked.name_goes_on(index - 1))
    }
    another = exact = False
    words = _Words(text)
    for index in words.content:
        stem = words.stems[index]
        if stem in common or stem not in names:
            continue
        after = words.after(index)
        if not after or (words.numbered(index) and stem not in numbered):
            exact = True  # the name as the question writes it
        elif after[0] not in said:
            another = True
    return another and not exact


_DATE_NAME = re.compile(rf"{_MONTH}|(?:mon|tues|wednes|thurs|fri|satur|sun)day", re.IGNORECASE)


class _Words:
    """A text's words, stemmed, and which are written as part of a name: what goes on
    with a name after it (only spaces between)."""

    def __init__(self, text: str) -> None:
        self.text = text.replace("\u2019", "'")
        self.words = list(_WORD.finditer(self.text))
        self.stems = [_stem(word[0].casefold()) for word in self.words]
        self.content = [
            index
            for index, word in enumerate(self.words)
            if word[0].casefold() not in _UNWEIGHED and (len(word[0]) > 1 or word[0].isdigit())
        ]

    def after(self, index: int) -> list[str]:
        """The stems of the name words (capitalised, or numbers) right after this one."""
        run = []
        while self._together(index) and self.capitalised(index + 1):
            index += 1
            run.append(self.stems[index])
        return run

    def name_goes_on(self, index: int) -> bool:
        """Whether this capitalised word has a number after it: "Nova 9"."""
        return self.capitalised(index) and self.numbered(index)

    def model_numbered(self, index: int) -> bool:
        """Whether this word is a model's number ("K7") or a name with one ("Nova 9")."""
        word = self.words[index][0]
        has_digit = word[:1].isalpha() and any(character.isdigit() for character in word)
        return (has_digit and self.capitalised(index)) or self.name_goes_on(index)

    def numbered(self, index: int) -> bool:
        """Whether a number follows this word, with only spaces between."""
        return self._together(index) and self.words[index + 1][0][:1].isdigit()

    def capitalised(self, index: int) -> bool:
        """Written as part of a name: capitalised (not opening the text) or a number."""
        if index >= len(self.words) or index not in self.content:
            return False
        first = self.words[index][0][:1]
        return first.isdigit() or (first.isupper() and index > 0)

    def _together(self, index: int) -> bool:
        """Whether this word and the next stand with only spaces between them."""
        if index + 1 >= len(self.words):
            return False
        return self.text[self.words[index].end() : self.words[index + 1].start()].isspace()


def count_range(*, text: str) -> CountRange | None:
    """The counts a table row's name covers ("10-200 lines": 10 to 200 lines), if it
    names a range or a count of something."""
    match = _RANGE.match(text.strip().casefold())
    if not match:
        return None
    unit = _stem(match["unit"]) if match["unit"] else None
    if match["low"]:
        return CountRange(low=int(match["low"]), high=int(match["high"]), unit=unit)
    if match["least"] or match["more"]:
        return CountRange(low=int(match["least"] or match["only"]), high=math.inf, unit=unit)
    if match["most"]:
        most = int(match["most"]) - (match["below"] != "up to")  # "under 5" is at most 4
        return CountRange(low=0, high=most, unit=unit)
    return CountRange(low=int(match["only"]), high=int(match["only"]), unit=unit)


def _stem(word: str) -> str:
    return word_stem(word=word, language="en")


# How often or for how long a question asks its amount: "each month", "per day", "yearly".
_PERIOD = re.compile(
    rf"\b(?:(?:each|every|per|a|an|the|first|next|last|\d+)\s+)?{_TIME_UNIT}\b"
    r"|\b(?:daily|weekly|monthly|yearly|annually)\b"
)


def names_a_thing(clause: str) -> bool:
    """Whether the clause names what it asks about beyond the kind of fact and the period
    ("when does your phone line open?", "how much is the late fee?"), not only asks for a
    figure ("what will I pay each month?", "how much is that?"): such an ask is about the
    question's scene, and searched alone finds pages the question never touched."""
    asked = clause.casefold()
    for asks in _ASKS.values():
        asked = asks.sub(" ", asked)
    return bool(content_words(_PERIOD.sub(" ", asked)))


def content_terms(text: str) -> frozenset[str]:
    """The text's words that say what it is about, casefolded and stemmed."""
    return frozenset(_stem(word) for _, word in content_words(text))


def content_words(text: str) -> list[tuple[str, str]]:
    """The text's words that say what it is about, casefolded, each with the word before
    it ("" for the first)."""
    words = _WORD.findall(text.casefold().replace("\u2019", "'"))
    return [
        (before, word)
        for before, word in zip(["", *words], words, strict=False)
        if word not in _UNWEIGHED and (len(word) > 1 or word.isdigit())
    ]


def facts_stated(*, text: str) -> frozenset[FactKind]:
    """The kinds of fact the sentence states (an amount, a duration, …)."""
    return frozenset(kind for kind, states in _STATES.items() if states.search(text))
