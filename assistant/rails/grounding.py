"""Output rail: every sentence of a generated answer must be supported by what it cites.

A sentence is supported when it means nearly the same as some sentence of the passages it
cites (all retrieved passages, if it cites none): cosine similarity of their embeddings,
the passages' embedded when they were indexed (`knowledge.sentences`).
Sentences too short to state a fact ("Sure!") pass. The extractive answerer quotes its
sources, so only generated answers are checked.

The embedding model knows English only: a faithful Spanish sentence scores 0.3 against
its English source. A sentence in another language than its passages (the model answers
in the customer's) is therefore held to what survives translation: every figure it states
(amounts, days, times, phone numbers) must be in the passages it cites. Weaker than the
meaning check, and only used where that one cannot work.
"""

import re
from collections.abc import Sequence

import numpy as np

from assistant.common.languages import customer_language
from knowledge.embeddings import texts_embed_cached
from knowledge.search import Hit

# Against the Canada shipping article: "Orders ship out within two business days" 0.76,
# "Bikes reach Toronto in five to eight business days" 0.63; the unsupported "Delivery to
# Canada is free for all orders" 0.43, "We also deliver by helicopter..." 0.29.
GROUNDED_SIMILARITY = 0.55
MIN_CLAIM_WORDS = 4
_MARKER = re.compile(r"\[(\d{1,3})\]")
_DIGITS = re.compile(r"\d+")
# The end of a sentence in a stream: closing punctuation (and any markers after it), then
# white space; or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*\s+|\n+")


def claim_of(sentence: str) -> str:
    """The sentence without its citation markers."""
    return _MARKER.sub("", sentence).strip()


def markers_of(sentence: str) -> list[str]:
    """Its citation markers, as written: ["[1]"]."""
    return [marker[0] for marker in _MARKER.finditer(sentence)]


def sentence_grounded(*, sentence: str, sources: Sequence[Hit]) -> bool:
    claim = claim_of(sentence)
    if len(claim.split()) < MIN_CLAIM_WORDS:
        return True
    cited = [int(n) - 1 for n in _MARKER.findall(sentence) if 0 < int(n) <= len(sources)]
    passages = [sources[i] for i in cited] or list(sources)
    evidence = [passage.sentences.vectors for passage in passages]
    if not any(len(vectors) for vectors in evidence):
        return False
    claim_vector = texts_embed_cached([claim])[0]
    if float((np.concatenate(evidence) @ claim_vector).max()) >= GROUNDED_SIMILARITY:
        return True
    passages_text = " ".join(passage.text for passage in passages)
    if customer_language(questions=[claim]) == customer_language(questions=[passages_text]):
        return False
    return set(_DIGITS.findall(claim)) <= set(_DIGITS.findall(passages_text))


class SentenceSplitter:
    """Cuts streamed text into whole sentences, each with the markers that follow it."""

    def __init__(self):
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        sentences = []
        while match := _SENTENCE_END.search(self._buffer):
            sentences.append(self._buffer[: match.end()])
            self._buffer = self._buffer[match.end() :]
        return sentences

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer, ""
        return [rest] if rest.strip() else []
