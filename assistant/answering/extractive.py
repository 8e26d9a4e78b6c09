"""The offline answerer: the best-matching sentences of the retrieved passages, cited.

It never writes a word the knowledge base does not contain; it only chooses and orders.
A sentence is scored by its own similarity to the question and by its passage's, so a
sentence that only makes sense in its section ("It takes 5-8 business days.") still wins
when the section is the right one; then by the share of the question's words it holds
(with its section heading, IDF-weighted over the sentences read, so the word that names
the thing asked about counts more than the company's name), and by whether it states the
kind of fact asked for (a "how much" question wants an amount, "how long" a duration:
`assistant.answering.question_focus`). Meaning alone picks a page's general sentence over the one
with the price in it.

The words of the clause that asks weigh more than the scene-setting's ("I opened my new
X7 and used it for a week. If I send it back, is there a restocking fee?" asks about the
fee): a sentence naming only the scene (a promotion for the X7) is never quoted when
others name what is asked.

After the best sentence come sentences of the same document as close in meaning, and,
from any document, sentences that hold what the question asks and the chosen ones do not
yet (a zone on one page, its price on another); a second document that only repeats the
first is not quoted, nor a sentence of it that shares a word of the question in another
sense ("marketing companies", "companies" of a business page): for its words, it must
read as on a chosen sentence's subject. A "how do I" question answered by a step of a
list gets the list's other steps too. A question that asks several things ("how do I
pause it, and how long can it last?") gets, beside the sentences chosen for the whole,
each part's own, each part with its share of the words, read from every passage (those
the part found searched alone too) and quoted in the order asked. A part nothing answers
well enough is left out. Of a table whose rows are ranges
("2-4 lines", "10+"), only the row holding the number the question names is quoted, and
a plain price per that unit gets its short calculation ("$5 per line per day" for 10 days:
$50 per line; a price the promotion replaces aside), as does that row for the columns
(plans) the question names. Chosen sentences keep their
document order, so the answer reads as the help article does; a chosen list item comes
after the line that introduces its list, and each run of sentences from one source is
cited once.

A list item is read with its lead-in ("A phone is unlocked when:" then "the line has been
active for 60 days"), so the condition answers the question its lead-in names, and a list
item's later sentence after the item's first ("Suspension: if a bill is unpaid 30 days
after the due date, …" before "Service comes back within 2 hours…"). A sentence naming
only another model or plan than the one asked ("Kestrel K7 Fold" or "Nova 8" to a question
about the "K7" or the "Nova 9") yields to one as good that names the one asked, and is not
quoted beside it (`question_focus.kind_named`). A FAQ's
own questions are never quoted as answers. A yes/no question's answer opens with "Yes."
or "No." only when the best sentence names everything its asking clause does (but the
company's name and words nearly every page holds, which tell no page apart) and plainly
states or denies what it asks ("Can I use X?": "X is available"), and no other sentence
quoted says otherwise: no lead is better than an invented one.

The constants were set on the demo help center's questions (knowledge/demo/questions.json:
24 of 30 answers cite the expected article, as on meaning alone, and 23 cite only it, from
22) and checked on a company's acceptance kit they were not set on (`python -m bench
acceptance`: answers holding the asked facts 27 -> 30 of 55, citing only right pages
41 -> 43). Parts, range rows and the calculation took it to 29 of 55 holding the asked
facts (27 fully correct, from 26), citations unchanged; on doc2dial, citation precision
0.629 -> 0.635 and the gold span share unchanged (57.7 %): the page chosen first, not a
second page cited, is what these two wait on (586 of 611 answers cite one page).
"""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from assistant.answering.answer_completion import answer_completed
from assistant.answering.question_focus import (
    Count,
    FactKind,
    QuestionFocus,
    content_terms,
    count_range,
    facts_stated,
    kind_named,
    question_focus,
    question_parts,
    whether_stated,
)
from knowledge.embeddings import query_embed
from knowledge.languages import word_stem
from knowledge.search import Hit
from knowledge.sentences import (
    TableRow,
    readable_lines,
    sentence_item_openings,
    sentence_lead_ins,
    sentence_lists,
    sentence_table_rows,
    sentences_asking,
)

SENTENCE_MIN_SIMILARITY = 0.42  # the best sentence must reach this, or "I don't know"
CLOSE_TO_BEST = 0.12  # more sentences of a quoted document must score within this of the best
FURTHER_FROM_BEST = 0.25  # a sentence that adds what is still missing, within this
SENTENCE_WEIGHT = 0.6  # against the passage's own similarity
TERMS_WEIGHT = 0.2  # times the share of the question's words the sentence holds
FACT_WEIGHT = 0.1  # a sentence holding the kind of fact asked for (an amount, a duration…)
ADDS_TERMS = 0.2  # share of the question's words a sentence must add to be quoted for them
SAME_SUBJECT = 0.5  # cosine of another page's sentence to one chosen, to be quoted beside it
OTHER_KIND_PENALTY = 0.1  # a sentence naming another model or plan than the one asked
SCENE_WEIGHT = 0.25  # a word only the question's scene-setting names, against an asked one
RANK_PENALTY = 0.03  # per place the passage is below the first
SOURCES_READ = 3  # sentences of the fourth passage were rarely chosen
MAX_SENTENCES = 3
MAX_WORDS = 90
MIN_WORDS = 4

# A price for each of something, or of two things: "$18 per day", "€2.50 a line", "$5 per
# line per day", a row's "Price per line: $32".
_AMOUNT = r"(?P<{}currency>[$€£])\s?(?P<{}amount>\d+(?:\.\d{{2}})?)(?![\d,.]\d)"
_PER = r"(?:/|\s+(?:per|a|an|each|every)\s+)"
_PRICE_PER = re.compile(
    _AMOUNT.format("", "") + rf"{_PER}(?P<unit>[a-z]+)\b(?:{_PER}(?P<also>[a-z]+)\b)?"
    r"|\bper (?P<row_unit>[a-z]+):\s*" + _AMOUNT.format("row_", "row_"),
    re.IGNORECASE,
)
_PRICES = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?(?:USD|EUR|GBP|CAD|AUD|dollars?|euros?|cents?)\b", re.IGNORECASE
)
# The price a promotion replaces, beside the one that holds: "$5 a day instead of $10".
_FORMER_PRICE = re.compile(
    r"\b(?:instead of|rather than|down from|reduced from|usually|normally)\s+[$€£¥₹]\s?\d+"
    r"(?:[.,]\d+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, eq=False)  # one per sentence: the same only as itself
class _Candidate:
    source_number: int  # 1-based, the citation marker
    document_id: int
    position: int
    text: str
    vector: np.ndarray
    lead_in: str | None  # the line introducing the list this sentence is an item of
    item_opening: str | None  # its list item's first sentence, when it is a later one
    lead_in_vector: np.ndarray  # its vector, or the sentence's own when it has none
    list_start: int | None  # where in its passage that list starts
    terms: frozenset[str]  # its content words, and its section heading's
    facts: frozenset[FactKind]
    row: TableRow | None  # the table row it reads, if it is one
    holds_count: bool  # a table row whose range holds a number the question names


def extractive_answer(
    *,
    question: str,
    sources: Sequence[Hit],
    max_words: int = MAX_WORDS,
    everywhere: frozenset[str] = frozenset(),
) -> str | None:
    """An answer of at most a few sentences with `[n]` markers, or None when none fits.
    `everywhere`: stemmed words that tell no page apart (the company's name, a word on
    nearly every page), which a sentence need not repeat to say yes or no."""
    focus = question_focus(question=question)
    every = _candidates(sources, counts=focus.counts)
    candidates = [candidate for candidate in every if candidate.source_number <= SOURCES_READ]
    # A part also reads the passages found for it alone: no similarity to the question.
    for_parts = [
        candidate
        for candidate in every
        if candidate.source_number <= SOURCES_READ
        or sources[candidate.source_number - 1].similarity is None
    ]
    if not candidates:
        return None
    similarities = _similarities(candidates, query=question, focus=focus)
    passages = [(hit.similarity or 0.0, rank) for rank, hit in enumerate(sources)]
    ranked = _ranked(
        candidates,
        question=question,
        passages=passages,
        similarities=similarities,
        focus=focus,
        everywhere=everywhere,
    )
    if ranked[0].similarity < SENTENCE_MIN_SIMILARITY:
        return None
    parts = question_parts(question=question)
    # Each part of a question that asks several things has its own share of the words.
    longest = min(max_words, MAX_WORDS * len(parts))
    room = longest // len(parts)
    chosen = _chosen(ranked, focus=focus, max_words=room)
    if len(parts) > 1:
        chosen += _chosen_for_parts(
            parts,
            question=question,
            candidates=for_parts,
            chosen=chosen,
            room=room,
            max_words=longest,
            everywhere=everywhere,
        )
    chosen = _in_ask_order(chosen, parts=parts)
    best = ranked[0].candidate
    quoted = _with_total(
        _with_lead_ins(chosen), best=best, chosen=chosen, question=question, counts=focus.counts
    )
    # A fact asked for that the chosen sentences leave out, from another passage or page.
    quoted = answer_completed(question=question, quoted=quoted, sources=sources, max_words=longest)
    # One marker after each run of sentences from the same source, as a person cites.
    answer = " ".join(
        _cited(text, source_number=number)
        if index == len(quoted) - 1 or quoted[index + 1][0] != number
        else _ended(text)
        for index, (number, text) in enumerate(quoted)
    )
    stated = None
    if len(parts) == 1:
        stated = _whether_stated(focus=focus, best=best, chosen=chosen, everywhere=everywhere)
    if stated is None:
        return answer
    return f"{'Yes' if stated else 'No'}. {answer}"


def _whether_stated(
    *, focus: QuestionFocus, best: _Candidate, chosen: list[_Candidate], everywhere: frozenset[str]
) -> bool | None:
    """Whether the best sentence says yes or no to a yes/no question: only a sentence
    holding every word the asking clause names, or the scene's when the clause points
    back at it ("Does it expire?") (so it speaks of the same thing, not of a
    neighbour: "twice a year" is not answered by "once per calendar year"; the predicate
    itself `whether_stated` checks) and stating or denying its predicate plainly, with no
    other sentence quoted saying otherwise. Words that tell no page apart need not be
    held: "Apple Pay is supported on all our credit cards" says yes to "Can I use Apple
    Pay with a Northwind credit card?"."""
    if focus.whether is None:
        return None
    named = (focus.asked or focus.terms) - {focus.whether.word} - everywhere
    if not named <= best.terms:
        return None
    stated = whether_stated(whether=focus.whether, text=best.text)
    contradicted = any(
        whether_stated(whether=focus.whether, text=candidate.text) is (not stated)
        for candidate in chosen
        if named <= candidate.terms
    )
    return None if stated is None or contradicted else stated


def _chosen_for_parts(
    parts: list[str],
    *,
    question: str,
    candidates: list[_Candidate],
    chosen: list[_Candidate],
    room: int,
    max_words: int,
    everywhere: frozenset[str],
) -> list[_Candidate]:
    """For a question that asks several things, the sentences answering each part that
    the sentences chosen for the whole do not already hold: the first part's answer must
    not crowd out the rest. Every passage is read, the ones each part found searched
    alone too (`completing_passages`), and a passage is as close to a part as its closest
    sentence. A part is read with the whole question's meaning beside its own ("what if
    I pay late? how much is the fee?" asks the late fee, not the activation fee). A part
    whose best sentence is below the bar the whole's is held to is left unanswered."""
    to_whole = _similarities(candidates, query=question, focus=question_focus(question=question))
    added: list[_Candidate] = []
    words = sum(len(candidate.text.split()) for candidate in chosen)
    for part in parts:
        focus = question_focus(question=part)
        similarities = (to_whole + _similarities(candidates, query=part, focus=focus)) / 2
        part_ranked = _ranked(
            candidates,
            question=part,
            passages=_passages_to(candidates, similarities=similarities),
            similarities=similarities,
            focus=focus,
            everywhere=everywhere,
        )
        if part_ranked[0].similarity < SENTENCE_MIN_SIMILARITY:
            continue  # nothing here answers this part: better unsaid than a loose quote
        part_chosen = _chosen(part_ranked, focus=focus, max_words=room)
        for candidate in part_chosen:
            length = len(candidate.text.split())
            if candidate not in chosen + added and words + length <= max_words:
                added.append(candidate)
                words += length
    return added


def _passages_to(
    candidates: list[_Candidate], *, similarities: np.ndarray
) -> list[tuple[float, int]]:
    """Each passage's similarity to a part (its closest sentence's) and its rank by it:
    a passage the part found searched alone has no similarity of its own to the
    question."""
    closest: dict[int, float] = {}
    for candidate, similarity in zip(candidates, similarities, strict=True):
        number = candidate.source_number
        closest[number] = max(closest.get(number, -1.0), float(similarity))
    order = sorted(closest, key=closest.get, reverse=True)
    count = max(closest) if closest else 0
    return [
        (closest.get(number, 0.0), order.index(number) if number in closest else count)
        for number in range(1, count + 1)
    ]


def _in_ask_order(chosen: list[_Candidate], *, parts: list[str]) -> list[_Candidate]:
    """The sentences as the question asks: each source's sentences together, in its own
    order, the sources in the order of the first part they answer (the part a sentence is
    closest to), so each is cited once and a second ask's page follows the first's."""
    if len(parts) == 1:
        return sorted(chosen, key=lambda candidate: (candidate.source_number, candidate.position))
    vectors = np.stack([candidate.vector for candidate in chosen])
    closest = np.stack([query_embed(query=part) for part in parts]) @ vectors.T
    asks = {candidate: int(closest[:, index].argmax()) for index, candidate in enumerate(chosen)}
    first_ask: dict[int, int] = {}
    for candidate, ask in asks.items():
        number = candidate.source_number
        first_ask[number] = min(first_ask.get(number, ask), ask)
    return sorted(
        chosen,
        key=lambda candidate: (
            first_ask[candidate.source_number],
            candidate.source_number,
            candidate.position,
        ),
    )


def _similarities(candidates: list[_Candidate], *, query: str, focus: QuestionFocus) -> np.ndarray:
    """Each sentence's similarity to the question; a list item's is its lead-in's when
    that is closer: "The line has been active for 60 days." answers "when is a phone
    unlocked?" because the line before its list says "A phone is unlocked when:". Only
    when the question's words and fact kind can tell the items apart: on meaning alone
    (a question in another language) every item would tie with its lead-in."""
    question = query_embed(query=query)
    own = np.stack([candidate.vector for candidate in candidates]) @ question
    if not focus.terms:
        return own
    lead_ins = np.stack([candidate.lead_in_vector for candidate in candidates]) @ question
    return np.maximum(own, lead_ins)


def _ranked(
    candidates: list[_Candidate],
    *,
    question: str,
    passages: Sequence[tuple[float, int]],
    similarities: np.ndarray,
    focus: QuestionFocus,
    everywhere: frozenset[str],
) -> list["_Scored"]:
    """The candidates best first; `passages`: each source's similarity and rank. A
    sentence naming another model of the one asked (the K7 Fold for the K7) yields to one
    as good that names the one asked."""
    weights = _term_weights(focus=focus, candidates=candidates)
    scene_only = _scene_only(focus=focus, candidates=candidates)
    return sorted(
        (
            _scored(
                candidate,
                similarity=float(similarity),
                passage=passages[candidate.source_number - 1],
                focus=focus,
                weights=weights,
                other_kind=kind_named(question=question, text=candidate.text, common=everywhere),
            )
            for candidate, similarity in zip(candidates, similarities, strict=True)
        ),
        key=lambda scored: (scored.candidate in scene_only, -scored.score),
    )


def _scene_only(*, focus: QuestionFocus, candidates: list[_Candidate]) -> set[_Candidate]:
    """The sentences that name only the question's scene ("I opened my new X7 phone…"),
    not what it asks ("…is there a restocking fee?"): a promotion for the X7 answers
    nothing asked. None when no sentence names what is asked: then the scene is all
    there is to go on."""
    if not any(candidate.terms & focus.asked for candidate in candidates):
        return set()
    return {candidate for candidate in candidates if focus.scene_only(candidate.terms)}


def _term_weights(*, focus: QuestionFocus, candidates: list[_Candidate]) -> dict[str, float]:
    """Each question word the sentences hold, weighted by how few hold it (IDF), the
    weights summing to 1: a sentence's share of what the question is about. A word of
    the question's scene-setting alone counts less than one of what it asks."""
    held = Counter(term for candidate in candidates for term in candidate.terms & focus.terms)
    idf = {
        term: math.log(1 + len(candidates) / count)
        * (SCENE_WEIGHT if focus.asked and term not in focus.asked else 1.0)
        for term, count in held.items()
    }
    total = sum(idf.values())
    return {term: weight / total for term, weight in idf.items()}


@dataclass(frozen=True)
class _Scored:
    candidate: _Candidate
    similarity: float  # the sentence's own cosine similarity to the question
    meaning: float  # its similarity and its passage's, the passage's rank
    score: float  # meaning, the question's words it holds, the kind of fact asked for
    other_kind: bool  # it names another model or plan than the one asked (`kind_named`)


def _scored(
    candidate: _Candidate,
    *,
    similarity: float,
    passage: tuple[float, int],
    focus: QuestionFocus,
    weights: dict[str, float],
    other_kind: bool,
) -> _Scored:
    passage_similarity, rank = passage
    meaning = (
        SENTENCE_WEIGHT * similarity
        + (1 - SENTENCE_WEIGHT) * passage_similarity
        - RANK_PENALTY * rank
    )
    words_held = sum(weights.get(term, 0.0) for term in candidate.terms)
    facts_held = bool(candidate.facts & focus.wants) + candidate.holds_count
    return _Scored(
        candidate=candidate,
        similarity=similarity,
        meaning=meaning,
        score=meaning
        + TERMS_WEIGHT * words_held
        + FACT_WEIGHT * facts_held
        - OTHER_KIND_PENALTY * other_kind,
        other_kind=other_kind,
    )


def _chosen(ranked: list[_Scored], *, focus: QuestionFocus, max_words: int) -> list[_Candidate]:
    """The best sentence, then sentences of the same document as close to the question in
    meaning, and (from any document) sentences holding what the question asks that the
    chosen ones do not: another document is quoted only for what it adds. Beside a best
    sentence naming the thing asked, none naming another kind of it."""
    candidates = [scored.candidate for scored in ranked]
    weights = _term_weights(focus=focus, candidates=candidates)
    scene_only = _scene_only(focus=focus, candidates=candidates)
    best = ranked[0]
    chosen = [best.candidate]
    terms = best.candidate.terms & weights.keys()
    facts = best.candidate.facts & focus.wants
    words = len(best.candidate.text.split())
    for scored in ranked[1:]:
        candidate = scored.candidate
        if len(chosen) == MAX_SENTENCES or scored.score < best.score - FURTHER_FROM_BEST:
            break
        close = scored.meaning >= best.meaning - CLOSE_TO_BEST
        beside = any(quoted.document_id == candidate.document_id for quoted in chosen)
        added_terms = sum(weights[term] for term in candidate.terms & weights.keys() - terms)
        # another page's sentence must be about what a chosen one is about, not share a
        # word of the question in another sense ("marketing companies", "companies")
        on_subject = beside or any(
            float(candidate.vector @ quoted.vector) >= SAME_SUBJECT for quoted in chosen
        )
        adds = (close and on_subject and added_terms >= ADDS_TERMS) or bool(
            candidate.facts & focus.wants - facts
        )
        length = len(candidate.text.split())
        earns = adds or (close and beside)
        # beside the model asked, what another model costs or does only confuses
        other_kind = scored.other_kind and not best.other_kind
        if candidate in scene_only or other_kind or not earns or words + length > max_words:
            continue
        chosen.append(candidate)
        terms |= candidate.terms & weights.keys()
        facts |= candidate.facts & focus.wants
        words += length
    if focus.wants_steps and best.candidate.list_start is not None:
        chosen += _other_steps(ranked, of=best.candidate, chosen=chosen, room=max_words - words)
    return chosen


def _other_steps(
    ranked: list[_Scored], *, of: _Candidate, chosen: list[_Candidate], room: int
) -> list[_Candidate]:
    """For a "how do I" question answered by one item of a list, the list's other items:
    a step out of its sequence does not say how. As many as the answer has room for."""
    steps = []
    for candidate in sorted(
        (scored.candidate for scored in ranked), key=lambda candidate: candidate.position
    ):
        length = len(candidate.text.split())
        sibling = (
            candidate.source_number == of.source_number and candidate.list_start == of.list_start
        )
        if sibling and candidate not in chosen and length <= room:
            steps.append(candidate)
            room -= length
    return steps


def _with_lead_ins(chosen: list[_Candidate]) -> list[tuple[int, str]]:
    """The chosen sentences as (source number, text), each list item's lead-in said once
    before the first item quoted from its list, and a list item's later sentence after
    the item's first ("Service comes back within 2 hours" holds after a suspension),
    each said once."""
    quoted: list[tuple[int, str]] = []
    for candidate in chosen:
        said = {text.casefold() for number, text in quoted if number == candidate.source_number}
        for text in (candidate.lead_in, candidate.item_opening, candidate.text):
            if text and text.casefold() not in said:
                quoted.append((candidate.source_number, text))
                said.add(text.casefold())
    return quoted


def _with_total(
    quoted: list[tuple[int, str]],
    *,
    best: _Candidate,
    chosen: list[_Candidate],
    question: str,
    counts: frozenset[Count],
) -> list[tuple[int, str]]:
    """The sentence with a short calculation followed by it: the sum a customer would
    otherwise work out, shown so it can be checked. The best sentence's price per thing,
    or else a quoted table row's prices for the number of things the question names,
    in the columns it names. Only those: a price quoted beside them may be another
    product's."""
    totals = [(best, _total(text=best.text, counts=counts))] + [
        (candidate, _row_total(candidate, question=question, counts=counts))
        for candidate in chosen
        if candidate.holds_count
    ]
    for candidate, total in totals:
        if total is not None:
            at = quoted.index((candidate.source_number, candidate.text)) + 1
            return [*quoted[:at], (candidate.source_number, total), *quoted[at:]]
    return quoted


def _total(*, text: str, counts: frozenset[Count]) -> str | None:
    """The short calculation, count times price, when the question names one number of
    something (12 lines) and the sentence one price, per that thing ("$32 per line"; "$5
    per line per day" for 10 days is $50 per line), the price it replaces aside ("instead
    of $10"). Nothing when it is not that plain: two prices, a price per another thing,
    two numbers in the question (2 bikes for 3 days)."""
    text = _FORMER_PRICE.sub("", text)
    if len(counts) != 1 or len(_PRICES.findall(text)) != 1:
        return None
    match = _PRICE_PER.search(text)
    if match is None:
        return None
    [asked] = counts
    units = [
        unit.casefold() for unit in (match["unit"] or match["row_unit"], match["also"]) if unit
    ]
    others = [unit for unit in units if word_stem(word=unit, language="en") != asked.unit]
    if len(others) == len(units):
        return None
    currency = match["currency"] or match["row_currency"]
    price = Decimal(match["amount"] or match["row_amount"])
    each = "".join(f" per {unit}" for unit in others)
    return f"{asked.value} \u00d7 {currency}{price} = {currency}{price * asked.value}{each}."


def _row_total(candidate: _Candidate, *, question: str, counts: frozenset[Count]) -> str | None:
    """The calculation a price table's row asks for ("2 seats — Team: $18 per seat;
    Business: $30 per seat"), when its range holds the number the question names (2
    seats): that number times the price in the one column the question names ("two Team
    seats": 2 x $18 = $36), or, when it names as many columns as things ("two seats: one
    Team, one Business"), one of each, added up ($18 + $30 = $48). Nothing when the
    question names other columns, or a cell prices something else or more than once."""
    covered = count_range(text=candidate.row.name)
    count = next((count for count in counts if covered.holds(count)), None)
    asked = question.casefold()
    named = []
    for cell in candidate.text.rstrip(".").split(" \u2014 ", 1)[-1].split("; "):
        column, _, value = cell.partition(": ")
        at = re.search(rf"\b{re.escape(column.casefold())}\b", asked) if value else None
        price = _PRICE_PER.fullmatch(value.strip())
        plain = price and price["unit"] and not price["also"]
        if at and plain and len(_PRICES.findall(value)) == 1:
            unit = word_stem(word=price["unit"], language="en")
            named.append((at.start(), unit, price["currency"], Decimal(price["amount"])))
    currencies = {currency for _, _, currency, _ in named}
    if count is None or len(currencies) != 1 or {unit for _, unit, _, _ in named} != {count.unit}:
        return None
    [currency] = currencies
    prices = [price for _, _, _, price in sorted(named)]
    if len(prices) == 1 and count.value > 1:
        return f"{count.value} \u00d7 {currency}{prices[0]} = {currency}{prices[0] * count.value}."
    if len(prices) == count.value > 1:
        return f"{' + '.join(f'{currency}{price}' for price in prices)} = {currency}{sum(prices)}."
    return None


def _candidates(sources: Sequence[Hit], *, counts: frozenset[Count]) -> list[_Candidate]:
    seen: set[str] = set()
    candidates = []
    for number, source in enumerate(sources, start=1):
        lines = set(readable_lines(source.text))
        asking = sentences_asking(source.text)
        lead_ins = sentence_lead_ins(source.text)
        openings = sentence_item_openings(source.text)
        lists = sentence_lists(source.text)
        rows = sentence_table_rows(source.text)
        sentences = source.sentences
        vectors = dict(zip(sentences.texts, sentences.vectors, strict=True))
        for position, (text, vector) in enumerate(
            zip(sentences.texts, sentences.vectors, strict=True)
        ):
            key = text.casefold()
            lead_in = lead_ins.get(text)
            facts = facts_stated(text=text)
            answer_like = _answer_like(
                text, whole_line=text in lines, item=bool(lead_in), place=FactKind.PLACE in facts
            )
            if key in seen or text in asking or not answer_like:
                continue
            seen.add(key)
            candidates.append(
                _Candidate(
                    source_number=number,
                    document_id=source.document_id,
                    position=position,
                    text=text,
                    vector=vector,
                    lead_in=lead_in,
                    item_opening=openings.get(text),
                    lead_in_vector=vectors.get(lead_in, vector),
                    list_start=lists.get(text),
                    # a list item says what it says of its lead-in's subject
                    terms=content_terms(f"{source.heading} {lead_in or ''} {text}"),
                    facts=facts,
                    row=rows.get(text),
                    holds_count=_holds_count(rows.get(text), counts=counts),
                )
            )
    return _other_ranges_left_out(candidates, counts=counts)


def _holds_count(row: TableRow | None, *, counts: frozenset[Count]) -> bool:
    covered = count_range(text=row.name) if row else None
    return covered is not None and any(covered.holds(count) for count in counts)


def _other_ranges_left_out(
    candidates: list[_Candidate], *, counts: frozenset[Count]
) -> list[_Candidate]:
    """Of a table whose rows are ranges ("2-4 lines", "5-9", "10+"), only the row holding
    the number the question names ("12 lines"): the others are prices the customer will
    not pay. Rows that name no range stay."""
    holding = {
        (candidate.source_number, candidate.row.table)
        for candidate in candidates
        if candidate.holds_count
    }
    return [
        candidate
        for candidate in candidates
        if candidate.holds_count
        or candidate.row is None
        or (candidate.source_number, candidate.row.table) not in holding
        or count_range(text=candidate.row.name) is None
    ]


def _answer_like(sentence: str, *, whole_line: bool, item: bool, place: bool) -> bool:
    """A statement, not a heading, a title line or a question the article asks itself. A
    list item is one whatever it ends with ("The device is paid off, and"): it reads
    after the line introducing its list; so is a line giving a street address, as store
    and contact pages write them, under the heading that names the place."""
    if len(sentence.split()) < MIN_WORDS or sentence.endswith("?"):
        return False
    return (
        item
        or (whole_line and (place or ": " in sentence))
        or bool(re.search(r"[.!][\"')\]]*$", sentence))
    )


# A list item leading to the next: "The device is paid off, and".
_JOINED = re.compile(r",?\s+(?:and|or)$")


def _ended(text: str) -> str:
    return text if re.search(r"[.!?:;][\"')\]]*$", text) or _JOINED.search(text) else text + "."


def _cited(text: str, *, source_number: int) -> str:
    """The sentence with its marker before the closing punctuation, as people write it."""
    text = _JOINED.sub("", text)  # nothing follows here for it to lead to
    marker = f" [{source_number}]"
    match = re.search(r"[.!?:;]+[\"')\]]*$", text)
    if match:
        return text[: match.start()] + marker + text[match.start() :]
    return text + marker + "."
