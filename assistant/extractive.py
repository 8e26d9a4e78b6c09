"""The offline answerer: the best-matching sentences of the retrieved passages, cited.

It never writes a word the knowledge base does not contain; it only chooses and orders.
A sentence is scored by its own similarity to the question and by its passage's, so a
sentence that only makes sense in its section ("It takes 5-8 business days.") still wins
when the section is the right one. Chosen sentences keep their document order, so the
answer reads as the help article does; a chosen list item comes after the line that
introduces its list, and each run of sentences from one source is cited once.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import query_embed
from knowledge.search import Hit
from knowledge.sentences import readable_lines, sentence_lead_ins

# Measured on the demo help center's questions (knowledge/demo/questions.json).
SENTENCE_MIN_SIMILARITY = 0.42  # the best sentence must reach this, or "I don't know"
CLOSE_TO_BEST = 0.12  # further sentences must score within this of the best
SENTENCE_WEIGHT = 0.6  # against the passage's own similarity
RANK_PENALTY = 0.03  # per place the passage is below the first
SOURCES_READ = 3  # sentences of the fourth passage were rarely chosen
MAX_SENTENCES = 3
MAX_WORDS = 90
MIN_WORDS = 4


@dataclass(frozen=True)
class _Candidate:
    source_number: int  # 1-based, the citation marker
    position: int
    text: str
    vector: np.ndarray
    lead_in: str | None  # the line introducing the list this sentence is an item of


def extractive_answer(
    *, question: str, sources: Sequence[Hit], max_words: int = MAX_WORDS
) -> str | None:
    """An answer of at most a few sentences with `[n]` markers, or None when none fits."""
    candidates = _candidates(sources)
    if not candidates:
        return None
    question_vector = query_embed(query=question)
    similarities = np.stack([candidate.vector for candidate in candidates]) @ question_vector
    scores = [
        SENTENCE_WEIGHT * float(similarity)
        + (1 - SENTENCE_WEIGHT) * (sources[candidate.source_number - 1].similarity or 0.0)
        - RANK_PENALTY * (candidate.source_number - 1)
        for candidate, similarity in zip(candidates, similarities, strict=True)
    ]
    order = np.argsort(scores)[::-1]
    if similarities[order[0]] < SENTENCE_MIN_SIMILARITY:
        return None
    chosen: list[_Candidate] = []
    words = 0
    for index in order:
        candidate = candidates[index]
        length = len(candidate.text.split())
        if scores[index] < scores[order[0]] - CLOSE_TO_BEST or len(chosen) == MAX_SENTENCES:
            break
        if chosen and words + length > min(max_words, MAX_WORDS):
            continue
        chosen.append(candidate)
        words += length
    chosen.sort(key=lambda candidate: (candidate.source_number, candidate.position))
    quoted = _with_lead_ins(chosen)
    # One marker after each run of sentences from the same source, as a person cites.
    return " ".join(
        _cited(text, source_number=number)
        if index == len(quoted) - 1 or quoted[index + 1][0] != number
        else _ended(text)
        for index, (number, text) in enumerate(quoted)
    )


def _with_lead_ins(chosen: list[_Candidate]) -> list[tuple[int, str]]:
    """The chosen sentences as (source number, text), each list item's lead-in said once
    before the first item quoted from its list."""
    quoted: list[tuple[int, str]] = []
    for candidate in chosen:
        said = {text.casefold() for number, text in quoted if number == candidate.source_number}
        if candidate.lead_in and candidate.lead_in.casefold() not in said:
            quoted.append((candidate.source_number, candidate.lead_in))
        quoted.append((candidate.source_number, candidate.text))
    return quoted


def _candidates(sources: Sequence[Hit]) -> list[_Candidate]:
    seen: set[str] = set()
    candidates = []
    for number, source in enumerate(sources[:SOURCES_READ], start=1):
        lines = set(readable_lines(source.text))
        lead_ins = sentence_lead_ins(source.text)
        sentences = source.sentences
        for position, (text, vector) in enumerate(
            zip(sentences.texts, sentences.vectors, strict=True)
        ):
            key = text.casefold()
            if key in seen or not _answer_like(text, whole_line=text in lines):
                continue
            seen.add(key)
            candidates.append(_Candidate(number, position, text, vector, lead_ins.get(text)))
    return candidates


def _answer_like(sentence: str, *, whole_line: bool) -> bool:
    """A statement, not a heading, a title line or a question the article asks itself."""
    if len(sentence.split()) < MIN_WORDS or sentence.endswith("?"):
        return False
    return (whole_line and ": " in sentence) or bool(re.search(r"[.!][\"')\]]*$", sentence))


def _ended(text: str) -> str:
    return text if re.search(r"[.!?:;][\"')\]]*$", text) else text + "."


def _cited(text: str, *, source_number: int) -> str:
    """The sentence with its marker before the closing punctuation, as people write it."""
    marker = f" [{source_number}]"
    match = re.search(r"[.!?:;]+[\"')\]]*$", text)
    if match:
        return text[: match.start()] + marker + text[match.start() :]
    return text + marker + "."
