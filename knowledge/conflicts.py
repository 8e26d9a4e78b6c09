"""Conflicts in a knowledge base: two passages that state different values for the same
thing (a price, a number of days, a percentage, a yes or a no), so an admin can fix the
source before a customer is told the wrong one.

Deterministic, in two steps. Passages alike enough to speak of the same subject are
paired by pgvector (each passage's nearest neighbours in its knowledge base, itself
included: a page can contradict itself). Then, sentence by sentence (the vectors stored at
indexing, `knowledge.sentences`), two sentences state the same thing when they are alike
(cosine), use nearly the same words once their values are set aside (Jaccard), and
neither names something the other does not ("Canada"/"Mexico", "Basic"/"Premium": two
things, each with its own value; a number that is no quantity, as in "Trail 14", names a
thing too; a capital that only opens the sentence, as in "A"/"The", names nothing). A
sentence may leave its subject to its heading ("Price: $30 per adult" under "Weekend
Pass"): compared with their headings in front (vectors stored at indexing too), two
sentences nearly alike (`HEADED_SIMILARITY`) state the same thing when neither names
something the other and its heading do not; the values still come from the sentences.
Such a pair conflicts when a unit both give (days, $, %...) has values in one that the
other does not give, or when one says exactly what the other says, negated
("can"/"cannot"); a negation that comes with other words or values is a condition's
("if it was not damaged…, 30 days"), and the two sentences are two cases.

Each passage is compared with its neighbours when it is indexed, and what is found is
stored (`Contradiction`, both ways round): search drops a passage a newer document
contradicts without comparing anything per question, and the Conflicts page reads the
list. Only what the assistant may answer from is listed: archived documents, notices
outside their period and quarantined passages are left out when it is read, as the dates
that decide which side is newer are, so an admin's change needs no new comparison.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Q
from pgvector import Vector

from knowledge.models import Chunk, Contradiction, Document, KnowledgeBase
from knowledge.sentences import Sentences

# Passages this alike (or this near a sentence giving a value) may speak of the same
# subject; the sentences decide. Lower than search's bar for a restatement (0.85): a fact
# changed amid other text is still found, and the sentence checks are cheap.
PASSAGE_SIMILARITY = 0.6
NEIGHBOURS = 10
# Sentences stating one thing with two values score 0.94-0.98 ("within 14/30 days"); one
# and its negation from 0.75 ("can"/"cannot be exchanged for cash"). Two things with
# their own values score as much (shipping to two countries, 0.73): the words tell them
# apart, not this.
SENTENCE_SIMILARITY = 0.75
SAME_WORDS = 0.75
# A sentence may leave its subject to its heading ("Weekend Ferry Pass" > "Price: $30 per
# adult" against "The Weekend Ferry Pass costs $25 per adult": far apart alone, close with
# the headings in front). Then their words differ too much to tell; headed, they must be
# as alike as restated sentences are, and still name nothing the other does not.
HEADED_SIMILARITY = 0.9
# A statement names what it is about: two table cells ("20-30 minutes") are no statements.
SUBJECT_WORDS = 2
VALUE_LENGTH = Contradiction._meta.get_field("value").max_length

_NUMBER_WORDS = {
    word: Decimal(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": Decimal(30), "forty": Decimal(40), "sixty": Decimal(60), "ninety": Decimal(90)}
_NUMBER = rf"\d+(?:[.,]\d+)*|{'|'.join(_NUMBER_WORDS)}"
_UNITS = {
    "%": "%",
    "percent": "%",
    "per cent": "%",
    "minute": "minutes",
    "min": "minutes",
    "hour": "hours",
    "hr": "hours",
    "day": "days",
    "calendar day": "days",
    "business day": "working days",
    "working day": "working days",
    "week": "weeks",
    "month": "months",
    "year": "years",
    "gb": "GB",
    "mb": "MB",
    "tb": "TB",
    "kg": "kg",
    "lb": "lb",
    "km": "km",
    "mile": "miles",
}
_CURRENCIES = {
    "$": "$",
    "usd": "$",
    "dollar": "$",
    "€": "€",
    "eur": "€",
    "euro": "€",
    "£": "£",
    "gbp": "£",
    "pound": "£",
}
_UNIT = "|".join(sorted((re.escape(unit) for unit in _UNITS), key=len, reverse=True))
_CURRENCY_WORD = "|".join(name for name in _CURRENCIES if name.isalpha())
_QUANTITY = re.compile(
    rf"(?P<prefix>\b[A-Z]{{1,2}})?(?P<symbol>[$€£])\s?(?P<amount>\d+(?:[.,]\d+)*)"
    rf"|\b(?P<priced>\d+(?:[.,]\d+)*)\s?(?P<currency>{_CURRENCY_WORD})s?\b"
    rf"|\b(?P<value>{_NUMBER})(?:\s*(?:-|\u2013|to|or)\s*(?P<upto>{_NUMBER}))?"
    rf"[\s-]*(?P<unit>{_UNIT})(?:s\b|\b|(?<=%))",
    re.IGNORECASE,
)
# "won't", "can't" (or "can t", as scraped text often has it) said in full first, then
# every negation taken out, the word it was joined to kept ("cannot" → "can").
_CONTRACTED = re.compile(r"\b(wo|ca|sha)n['\u2019 ]t\b", re.IGNORECASE)
_CONTRACTED_IN_FULL = {"wo": "will not", "ca": "can not", "sha": "shall not"}
_NEGATION = re.compile(
    r"\b(?:not|never|none|nothing|neither|nor|no(?=\s+\w))\b"  # "No." alone answers
    r"|(?<=\bcan)not\b|(?<=\w)n['\u2019 ]t\b",
    re.IGNORECASE,
)
# A word, or a number that is no quantity (a model's, a plan's): it names the thing.
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?|\d+(?:[.,]\d+)*")
# A sentence's first word is written with a capital whatever it is: a name only if it is
# written so again inside the sentence, or names a table row ("Basic — Price: $20.",
# `knowledge.sentences`).
_OPENING_WORD = re.compile(r"^[\W_]*([^\W\d_]+(?:['\u2019][^\W\d_]+)?)")
_ROW_NAME = re.compile(r"^[^\n\u2014]+ \u2014 ")


@dataclass(frozen=True)
class Statement:
    sentence: str
    document: Document
    chunk_id: int


@dataclass(frozen=True)
class Conflict:
    first: Statement
    second: Statement
    first_value: str  # as written: "14 days", "yes"
    second_value: str

    @property
    def sides(self) -> tuple[tuple[Statement, str], tuple[Statement, str]]:
        return (self.first, self.first_value), (self.second, self.second_value)

    @property
    def newer(self) -> Statement | None:
        """The one the assistant answers from: its document's effective date is later.
        None when nothing tells (the same document, no date, or the same date)."""
        first, second = self.first.document.effective_date, self.second.document.effective_date
        if not first or not second or first == second:
            return None
        return self.first if first > second else self.second


def contradictions_store(*, chunk_ids: Sequence[int]) -> None:
    """Finds and stores the contradictions of newly indexed passages with their knowledge
    base's (themselves and each other included), in the caller's transaction."""
    indexed = {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(pk__in=chunk_ids)
        .exclude(sentences=[])
        .only(*_COMPARED, "knowledge_base_id", "embedding")
    }
    if not indexed:  # a document without a readable sentence, or none indexed
        return
    pairs = _passages_near_values(chunks=list(indexed.values()))
    compared = indexed | {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(
            pk__in={pk for pair in pairs for pk in pair} - set(indexed)
        )
        .exclude(sentences=[])
        .only(*_COMPARED)
    }
    found = [
        contradiction
        for first, second in sorted(pairs)
        if first in compared and second in compared
        for contradiction in _both_ways(compared[first], compared[second])
    ]
    Contradiction.objects.bulk_create(found, ignore_conflicts=True)


_COMPARED = ("pk", "heading", "sentences", "sentence_embeddings", "headed_sentence_embeddings")


def _both_ways(first: Chunk, second: Chunk) -> Iterator[Contradiction]:
    for i, j, (first_value, second_value) in _sentence_conflicts(
        _Passage.of(first), _Passage.of(second), same_passage=first.pk == second.pk
    ):
        sides = ((first, i, first_value), (second, j, second_value))
        for (chunk, sentence, value), (other, other_sentence, other_value) in (
            sides,
            sides[::-1],
        ):
            yield Contradiction(
                chunk=chunk,
                sentence=sentence,
                value=value[:VALUE_LENGTH],
                other_chunk=other,
                other_sentence=other_sentence,
                other_value=other_value[:VALUE_LENGTH],
            )


def knowledge_base_conflicts(*, knowledge_base: KnowledgeBase, today: date) -> list[Conflict]:
    """Pairs of sentences of the knowledge base that give the same thing different values,
    among the passages searched on `today`."""
    searched = (
        Q(document__archived=False, quarantined=False)
        & (Q(document__valid_from__isnull=True) | Q(document__valid_from__lte=today))
        & (Q(document__valid_until__isnull=True) | Q(document__valid_until__gte=today))
    )
    chunks = Chunk.objects.filter(searched, knowledge_base=knowledge_base)
    contradictions = (
        Contradiction.objects.filter(chunk__in=chunks, other_chunk__in=chunks)
        # Each pair once: stored both ways round.
        .filter(
            Q(chunk_id__lt=F("other_chunk_id"))
            | Q(chunk_id=F("other_chunk_id"), sentence__lt=F("other_sentence"))
        )
        .select_related("chunk__document", "other_chunk__document")
        .order_by("chunk_id", "sentence", "other_chunk_id", "other_sentence")
    )
    conflicts = [
        Conflict(
            first=_statement(contradiction.chunk, contradiction.sentence),
            second=_statement(contradiction.other_chunk, contradiction.other_sentence),
            first_value=contradiction.value,
            second_value=contradiction.other_value,
        )
        for contradiction in contradictions
    ]
    return sorted(
        conflicts, key=lambda c: (c.first.document.title, c.second.document.title, c.first.chunk_id)
    )


def _statement(chunk: Chunk, sentence: int) -> Statement:
    return Statement(chunk.sentences[sentence], chunk.document, chunk.pk)


_PASSAGES_NEAR_SQL = """
SELECT value.chunk_id, neighbour.id
FROM unnest(%(chunk_ids)s::bigint[], %(knowledge_base_ids)s::bigint[], %(vectors)s::vector[])
    AS value(chunk_id, knowledge_base_id, embedding)
CROSS JOIN LATERAL (
    SELECT other.id, other.embedding <=> value.embedding AS distance
    FROM knowledge_chunk other
    WHERE other.knowledge_base_id = value.knowledge_base_id
    ORDER BY other.embedding <=> value.embedding
    LIMIT %(neighbours)s
) neighbour
WHERE neighbour.distance <= %(distance)s
"""


def _passages_near_values(*, chunks: Sequence[Chunk]) -> set[tuple[int, int]]:
    """Each passage with itself, with its nearest alike passages, and with the passages
    nearest each of its sentences that gives a value, alone and headed (HNSW): a page
    about many things may state one of them in a sentence its own vector says little of.
    Each pair once."""
    pairs = {(chunk.pk, chunk.pk) for chunk in chunks}
    valued = [(chunk, chunk.embedding) for chunk in chunks] + [
        (chunk, vector)
        for chunk in chunks
        for passage in [_Passage.of(chunk)]
        for index, text in enumerate(chunk.sentences)
        if sentence_gives_value(text)
        for vector in (
            passage.sentences.vectors[index],
            *(() if passage.headed is None else (passage.headed[index],)),
        )
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to the transaction: the index scan goes on past other knowledge bases' chunks.
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
            [str(NEIGHBOURS * 4)],
        )
        cursor.execute(
            _PASSAGES_NEAR_SQL,
            {
                "chunk_ids": [chunk.pk for chunk, _ in valued],
                "knowledge_base_ids": [chunk.knowledge_base_id for chunk, _ in valued],
                "vectors": [Vector(vector).to_text() for _, vector in valued],
                "neighbours": NEIGHBOURS,
                "distance": 1 - PASSAGE_SIMILARITY,
            },
        )
        return pairs | {(min(pair), max(pair)) for pair in cursor.fetchall()}


@dataclass(frozen=True)
class _Passage:
    """A passage's sentences as compared: their vectors alone and with the heading in front
    (None for a passage indexed before those were stored), and the heading's words."""

    sentences: Sentences
    headed: np.ndarray | None
    heading_words: frozenset[str]

    @classmethod
    def of(cls, chunk: Chunk) -> "_Passage":
        headed = bytes(chunk.headed_sentence_embeddings)
        return cls(
            sentences=Sentences.unpacked(texts=chunk.sentences, packed=chunk.sentence_embeddings),
            headed=Sentences.unpacked(texts=chunk.sentences, packed=headed).vectors
            if headed
            else None,
            heading_words=frozenset(word.lower() for word in _WORD.findall(chunk.heading)),
        )


def _sentence_conflicts(
    first: _Passage, second: _Passage, *, same_passage: bool
) -> Iterator[tuple[int, int, tuple[str, str]]]:
    """(i, j, their values) for each pair of sentences that give one thing two values: alike
    as they are, or alike once their headings say what they are about."""
    if not len(first.sentences.texts) or not len(second.sentences.texts):
        return
    alike = first.sentences.vectors @ second.sentences.vectors.T >= SENTENCE_SIMILARITY
    headed = np.zeros_like(alike)
    if first.headed is not None and second.headed is not None:
        headed = first.headed @ second.headed.T >= HEADED_SIMILARITY
    for i, j in zip(*np.nonzero(alike | headed), strict=True):
        if same_passage and i >= j:  # a passage against itself: each pair once
            continue
        values = _values_differing(
            first.sentences.texts[i],
            second.sentences.texts[j],
            headings=(first.heading_words, second.heading_words) if headed[i, j] else None,
        )
        if values:
            yield int(i), int(j), values


@dataclass(frozen=True)
class _Claim:
    """What a sentence says, as far as comparing it with another goes."""

    sequence: tuple[str, ...]  # its words in order, lower case, without values and negations
    names: frozenset[str]  # its words written with a capital (its opening one aside), numbers
    quantities: dict[str, dict[tuple[Decimal, ...], str]]  # unit → value → as written
    negated: bool

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.sequence)


def _values_differing(
    first: str, second: str, *, headings: tuple[frozenset[str], frozenset[str]] | None
) -> tuple[str, str] | None:
    """The two values, as written, when the sentences give one thing two values. With
    their `headings`' words, the sentences are about one thing when neither names what
    the other and its heading do not (their words may differ otherwise)."""
    a, b = _claim(first), _claim(second)
    a_words, b_words = (
        (a.words | headings[0], b.words | headings[1]) if headings else (a.words, b.words)
    )
    if (a_words ^ b_words) & (a.names | b.names):
        return None
    shared = a_words & b_words
    if len(shared) < SUBJECT_WORDS:
        return None
    if not headings and len(shared) < SAME_WORDS * len(a_words | b_words):
        return None
    if a.negated != b.negated:
        # The same words, one of them negated. Other words too, or other values, and the
        # negation is a condition's ("if it was not due to…"): two cases, not one thing.
        if a.sequence != b.sequence or a.quantities != b.quantities:
            return None
        return ("no", "yes") if a.negated else ("yes", "no")
    for unit in a.quantities.keys() & b.quantities.keys():
        if not a.quantities[unit].keys() & b.quantities[unit].keys():
            return ", ".join(a.quantities[unit].values()), ", ".join(b.quantities[unit].values())
    return None


def sentence_gives_value(sentence: str) -> bool:
    """A quantity, or a yes or no: what two sentences can state differently."""
    claim = _claim(sentence)
    return bool(claim.quantities or claim.negated)


@lru_cache(maxsize=4096)  # a sentence is compared with each of its neighbours'
def _claim(sentence: str) -> _Claim:
    quantities: dict[str, dict[tuple[Decimal, ...], str]] = {}
    for found in _QUANTITY.finditer(sentence):
        unit, value = _quantity(found)
        quantities.setdefault(unit, {})[value] = found[0].strip()
    in_full = _CONTRACTED.sub(lambda found: _CONTRACTED_IN_FULL[found[1].lower()], sentence)
    words = _WORD.findall(_NEGATION.sub(" ", _QUANTITY.sub(" ", in_full)))
    capitalised = [word for word in words if not word[0].islower()]
    opening = _OPENING_WORD.match(sentence)
    if opening and not _ROW_NAME.match(sentence) and capitalised.count(opening[1]) == 1:
        capitalised.remove(opening[1])  # "A", "The", "Price:" start a sentence, name nothing
    return _Claim(
        sequence=tuple(word.lower() for word in words),
        names=frozenset(word.lower() for word in capitalised),
        quantities=quantities,
        negated=bool(_NEGATION.search(in_full)),
    )


def _quantity(found: re.Match) -> tuple[str, tuple[Decimal, ...]]:
    """A matched quantity's unit (currencies by symbol, "CA$" apart) and value(s)."""
    if found["symbol"]:
        return f"{found['prefix'] or ''}{found['symbol']}".upper(), (_number(found["amount"]),)
    if found["priced"]:
        return _CURRENCIES[found["currency"].lower()], (_number(found["priced"]),)
    values = (found["value"], found["upto"]) if found["upto"] else (found["value"],)
    return _UNITS[found["unit"].lower()], tuple(_number(value) for value in values)


def _number(written: str) -> Decimal:
    """A number word, or digits whose last separator marks decimals unless three digits
    follow it (1,000 and 1.000.000 are thousands; 9,99, 22,805.34 and 1.234,56 decimals)."""
    if written.lower() in _NUMBER_WORDS:
        return _NUMBER_WORDS[written.lower()]
    *whole, last = re.split(r"[.,]", written)
    if whole and len(last) != 3:
        return Decimal(f"{''.join(whole)}.{last}")
    return Decimal(f"{''.join(whole)}{last}")
