"""A customer message cut into the pieces the meaning-based input rails score, embedded once.

An instruction or a request for a person may follow a real question, so each sentence is
scored as well as the whole; a long paste is read in overlapping windows; base64 runs are
decoded, so what is hidden in an encoding counts too. The injection, refused-topic and
escalation rails all read the same vectors.
"""

import base64
import binascii
import re
from dataclasses import dataclass

import numpy as np
from sentencex import segment

from knowledge.embeddings import texts_embed_cached

PIECE_WORDS = 60
MAX_PIECES = 12
MIN_SENTENCE_WORDS = 3
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


@dataclass(frozen=True)
class MessagePieces:
    texts: list[str]
    decoded: list[bool]  # the piece was hidden in base64
    vectors: np.ndarray  # one normalised embedding per piece


def message_pieces(*, text: str) -> MessagePieces:
    plain = _pieces(text)
    hidden = _decoded(text)
    texts = plain + hidden
    return MessagePieces(
        texts=texts,
        decoded=[False] * len(plain) + [True] * len(hidden),
        vectors=texts_embed_cached(texts),  # the search then finds the question's vector
    )


def _pieces(text: str) -> list[str]:
    """The message and its sentences, or for a long one overlapping windows of it; at most
    MAX_PIECES."""
    words = text.split()
    if len(words) <= PIECE_WORDS:
        sentences = [s.strip() for s in segment("en", text) if len(s.split()) >= MIN_SENTENCE_WORDS]
        return [text, *sentences[: MAX_PIECES - 1]] if len(sentences) > 1 else [text]
    step = PIECE_WORDS // 2
    starts = range(0, len(words) - step, step)
    return [" ".join(words[start : start + PIECE_WORDS]) for start in starts][:MAX_PIECES]


def _decoded(text: str) -> list[str]:
    """What the message's base64 runs say, when they decode to words."""
    found = []
    for run in _BASE64.findall(text):
        try:
            plain = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
        if plain.isprintable() and len(plain.split()) >= 3:
            found.append(plain)
    return found
