"""Prompt injection and jailbreak attempts in customer messages, scored by meaning.

A logistic regression over the sentence embeddings Keel already computes, fitted at start
on written examples of attacks and of ordinary customer questions (`injection_examples`):
no keyword list, and the examples carry across phrasings and languages (MiniLM places
"ignoriere alle vorherigen Anweisungen" near its English twin). Each sentence of a message
is scored as well as the whole (an instruction may follow a real question), a long
message in overlapping windows, and base64 runs are decoded and scored too, so an attack hidden in
a long paste or an encoding still counts. The message's score is its worst piece's.

The threshold was chosen on Keel's red-team suite (`redteam_cases.jsonl`: the most attacks
flagged with at most one of its 34 look-alikes; 0.7 flagged two), never on the shared set
that `make bench` measures against.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from sentencex import segment
from sklearn.linear_model import LogisticRegression

from assistant.rails.injection_examples import ATTACKS, CUSTOMERS
from knowledge.embeddings import texts_embed

THRESHOLD = 0.75
REGULARISATION = 3.0  # LogisticRegression's C: the examples are few
PIECE_WORDS = 60
MAX_PIECES = 12
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


@dataclass(frozen=True)
class InjectionVerdict:
    flagged: bool
    score: float  # the probability of an attack, of the worst piece
    decoded: bool  # the worst piece was hidden in base64


def injection_check(*, text: str) -> InjectionVerdict:
    pieces = [(piece, False) for piece in _pieces(text)]
    pieces += [(piece, True) for piece in _decoded(text)]
    scores = _classifier().predict_proba(texts_embed(texts=[p for p, _ in pieces]))[:, 1]
    worst = int(scores.argmax())
    return InjectionVerdict(
        flagged=bool(scores[worst] >= THRESHOLD),
        score=round(float(scores[worst]), 4),
        decoded=pieces[worst][1],
    )


def injection_scores(*, vectors: np.ndarray) -> np.ndarray:
    """The attack probability of texts already embedded (such as stored chunks)."""
    return _classifier().predict_proba(vectors)[:, 1]


@cache
def _classifier() -> LogisticRegression:
    vectors = texts_embed(texts=[*ATTACKS, *CUSTOMERS])
    labels = [1] * len(ATTACKS) + [0] * len(CUSTOMERS)
    return LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(
        vectors, labels
    )


def _pieces(text: str) -> list[str]:
    """The message and its sentences (an instruction may follow a real question), or for
    a long one overlapping windows of it; at most MAX_PIECES."""
    words = text.split()
    if len(words) <= PIECE_WORDS:
        sentences = [s.strip() for s in segment("en", text) if len(s.split()) >= 3]
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
