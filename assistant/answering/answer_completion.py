"""Every asked fact in the answer: a value the chosen sentences leave out, from another passage.

Help centers split a subject from its figures: the returns page says "a restocking fee
applies (see the fee list)", the fee list's row says "Restocking fee | $25". The
extractive answerer chooses sentences about the subject, so "how much is the restocking
fee?" can be answered with the sentence that names the fee and not the one that states it.
Here each clause that asks ("how much…", "how long…", "by when…", "what happens if I
don't…") is checked against the sentences chosen: when none of those about its subject
states the kind of fact it asks for, the retrieved passage sentence (any of the passages
the answer was given, a table row included) that holds both the clause's subject and a
value of that kind is added after the sentence it completes, citing its own page. Such a
clause is also searched alone, and the passages it finds that the question's search did
not are given to the answer too (either backend): the price list a second part needs is
often not among the passages about the first.

A value is added only for the clause's subject: every word of it that names a specific
thing (wordfreq Zipf below `SPECIFIC_ZIPF`, as the answerability check reads them) must be
in the completing sentence, its section heading or its document's title, so the late fee
never answers a question about the restocking fee. The passages are the search's, after
its newest-fact-wins filtering, so a superseded value is never among them.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from wordfreq import zipf_frequency

from assistant.answering.answerability import SPECIFIC_ZIPF
from assistant.answering.question_focus import (
    FactKind,
    asking_clauses,
    asks_apart,
    content_terms,
    content_words,
    facts_stated,
    names_a_thing,
    question_focus,
)
from knowledge.embeddings import query_embed
from knowledge.languages import word_stem
from knowledge.models import KnowledgeBase
from knowledge.search import Hit, chunk_search
from knowledge.sentences import sentence_lead_ins, sentences_asking

MIN_WORDS = 4  # shorter lines are headings, not statements of a value
CLAUSE_PASSAGES = 3  # passages a clause searched alone may add
# What a help center answers "what happens if I don't return it / pay late / lose it?"
# with, when it has a figure for it: the fee that follows.
_CONSEQUENCE = re.compile(
    r"\bwhat happens\b.*(?:n't|\b(?:not|never|late|miss(?:es|ed)?|fail|lose|lost|forget"
    r"|damaged?|break|broken))\b"
)
# A question naming a charge ("do I pay an activation fee?") wants what it comes to.
_CHARGE = re.compile(r"\b(?:fees?|charges?|surcharges?|deposits?|penalt(?:y|ies))\b")
# A charge a sentence names, by the words before it: "a late payment fee", "the
# reconnection charge".
_CHARGE_NAME = re.compile(
    r"\b((?:[\w-]+\s+){1,2})(?:fees?|charges?|surcharges?|deposits?|penalt(?:y|ies))\b",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\d")
# A sentence sending the reader elsewhere for the figure ("see the fee list", "the fee in
# the Price Guide") has not stated it, whatever else it says ("none online, …").
_REFERRAL = re.compile(
    r"(?:^|[(;:,.]\s*)see\b|\b(?:listed|shown|set out|given)\s+(?:in|on)\b"
    r"|\bin (?:the|our) (?:\w+ )?(?:price|fee|rate|tariff|charge)s? ?(?:list|guide|table"
    r"|schedule|sheet|card)s?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Sentence:
    source_number: int  # 1-based, its citation marker
    text: str
    vector: np.ndarray
    terms: frozenset[str]  # its words, its section heading's and its document title's
    facts: frozenset[FactKind]  # none for a sentence that sends the reader elsewhere


def answer_completed(
    *,
    question: str,
    quoted: list[tuple[int, str]],
    sources: Sequence[Hit],
    max_words: int,
) -> list[tuple[int, str]]:
    """The quoted sentences (source number, text), each followed by the sentences that
    state a fact its question asks for and no quoted sentence about its subject states."""
    sentences = _sentences(sources)
    completed = list(quoted)
    words = sum(len(text.split()) for _, text in quoted)
    for clause in asking_clauses(question=question):
        kinds = _kinds_asked(clause)
        for subject in _subjects(clause, kinds=kinds, quoted=_quoted(completed, sentences)):
            about = [s for s in _quoted(completed, sentences) if s.terms & subject]
            for kind in kinds - {kind for sentence in about for kind in sentence.facts}:
                found = _completing(clause=clause, subject=subject, kind=kind, sentences=sentences)
                length = len(found.text.split()) if found else 0
                said = {text.casefold() for _, text in completed}
                if found is None or found.text.casefold() in said or words + length > max_words:
                    continue
                after = _completed_sentence(about, subject=subject, quoted=completed)
                completed.insert(after + 1, (found.source_number, found.text))
                words += length
    return completed


def completing_passages(
    *, query: str, knowledge_bases: Sequence[KnowledgeBase], hits: Sequence[Hit]
) -> list[Hit]:
    """Passages a clause of the question finds searched alone and the whole question did
    not: the fee list that its second part ("…, and do I pay an activation fee?") needs,
    the contact page that "…, and when does your phone line open?" does. Every clause of
    a question that asks several things apart (`asks_apart`) that names what it asks
    about; otherwise a clause only when it asks a kind of fact of a specific thing.
    Never the whole query.
    Their similarity is to the clause, not the question, so it is left out: the answer's
    confidence is read from the question's own passages."""
    found = {hit.chunk_id for hit in hits}
    passages = []
    several = len(asks_apart(question=query)) > 1
    for clause in asking_clauses(question=query):
        # An ask naming no thing ("…, and what will I pay?") is the question's own search's.
        alone = (several and names_a_thing(clause)) or (_kinds_asked(clause) and _subject(clause))
        if clause.strip() == query.strip() or not alone:
            continue
        for hit in chunk_search(knowledge_bases=knowledge_bases, query=clause, k=CLAUSE_PASSAGES):
            if hit.chunk_id not in found:
                found.add(hit.chunk_id)
                passages.append(replace(hit, similarity=None))
    return passages


def _kinds_asked(clause: str) -> frozenset[FactKind]:
    wants = question_focus(question=clause).wants
    asked = clause.casefold()
    if _CONSEQUENCE.search(asked) or _CHARGE.search(asked):
        wants |= {FactKind.AMOUNT}
    return wants - {FactKind.PLACE}  # an address is asked by name, and quoted whole


def _subjects(
    clause: str, *, kinds: frozenset[FactKind], quoted: list[_Sentence]
) -> list[frozenset[str]]:
    """What a value asked for must be of: the specific things the clause names, or, when
    it names none ("what happens if I pay late?"), each charge a quoted sentence names
    without its amount ("a late payment fee is added…") that shares a word with it."""
    subject = _subject(clause)
    if subject or FactKind.AMOUNT not in kinds:
        return [subject] if subject else []
    asked = content_terms(clause)
    named = {
        content_terms(match[1])
        for sentence in quoted
        if FactKind.AMOUNT not in sentence.facts
        for match in _CHARGE_NAME.finditer(sentence.text)
    }
    return [name for name in named if name & asked]


def _subject(clause: str) -> frozenset[str]:
    """The clause's words naming a specific thing (stemmed): what a value must be of."""
    return frozenset(
        word_stem(word=word, language="en")
        for _, word in content_words(clause)
        if word.isalpha() and zipf_frequency(word, "en") < SPECIFIC_ZIPF
    )


def _sentences(sources: Sequence[Hit]) -> list[_Sentence]:
    sentences = []
    for number, source in enumerate(sources, start=1):
        asking = sentences_asking(source.text)  # a FAQ's own question states nothing
        lead_ins = sentence_lead_ins(source.text)
        for text, vector in zip(source.sentences.texts, source.sentences.vectors, strict=True):
            if text in asking or len(text.split()) < MIN_WORDS:
                continue
            about = f"{source.document_title} {source.heading} {lead_ins.get(text) or ''}"
            sentences.append(
                _Sentence(
                    source_number=number,
                    text=text,
                    vector=vector,
                    terms=content_terms(f"{about} {text}"),
                    facts=frozenset() if _REFERRAL.search(text) else facts_stated(text=text),
                )
            )
    return sentences


def _quoted(quoted: list[tuple[int, str]], sentences: list[_Sentence]) -> list[_Sentence]:
    said = set(quoted)
    return [sentence for sentence in sentences if (sentence.source_number, sentence.text) in said]


def _completing(
    *, clause: str, subject: frozenset[str], kind: FactKind, sentences: list[_Sentence]
) -> _Sentence | None:
    """Of the sentences holding the clause's whole subject and a value of the kind asked,
    one with a figure, the closest to the clause in meaning."""
    holding = [s for s in sentences if kind in s.facts and subject <= s.terms]
    if not holding:
        return None
    asked = query_embed(query=clause)
    # A figure before a "none" or "free": the figure is what a quoted sentence left out.
    return max(
        holding,
        key=lambda sentence: (bool(_FIGURE.search(sentence.text)), float(sentence.vector @ asked)),
    )


def _completed_sentence(
    about: list[_Sentence], *, subject: frozenset[str], quoted: list[tuple[int, str]]
) -> int:
    """Where in the answer the sentence completed is: the quoted one naming most of the
    subject, or the answer's end when none names it."""
    if not about:
        return len(quoted) - 1
    best = max(about, key=lambda sentence: len(sentence.terms & subject))
    return quoted.index((best.source_number, best.text))
