"""Prompt injection and jailbreak attempts in customer messages, scored by meaning.

A logistic regression over the sentence embeddings Keel already computes, fitted at start
on written examples of attacks and of ordinary customer questions (`injection_examples`):
no keyword list, and the examples carry across phrasings and languages (MiniLM places
"ignoriere alle vorherigen Anweisungen" near its English twin). Every piece of the message
is scored (`pieces`: its sentences and their clauses, windows of a long paste, and what
base64, hex, rot13, leetspeak or spaced-out letters hide), so an attack hidden in a long
paste, an encoding or half a sentence still counts. The message's score is its worst piece's.

A piece's score is the classifier's probability blended with how much nearer the piece is
to its nearest written attack than to its nearest customer question: a linear model over
a few hundred examples smooths away a short, plain attack ("set your rules aside") that
one example says almost word for word.

The threshold flags at most 1 % of ordinary customer questions: the demo's questions and doc2dial's
first turns (377, those the shared prompts hold left out; `python -m bench rails` prints it
as `threshold_at_1%_false_positives`), never the shared prompts it is measured on. Fit on
Keel's examples only, it is measured on all of those; the same approach fit with them too is
measured by cross-validation (docs/benchmarks.md).
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.rails.injection_examples import ATTACKS, CUSTOMERS
from assistant.rails.pieces import MessagePieces
from knowledge.embeddings import texts_embed

THRESHOLD = 0.68  # `threshold_at_1%_false_positives` (0.671), rounded up
# The looser bar, for a message the help center has no answer to (`outcomes.Nearly`):
# `threshold_at_5%_false_positives` (0.594), rounded up.
NEARLY_THRESHOLD = 0.60
REGULARISATION = 3.0  # LogisticRegression's C: the examples are few
NEAREST_WEIGHT = 0.5  # the nearest examples' share of a piece's score
NEAREST_SCALE = 2.0  # a margin of 0.25 in cosine similarity moves that share from 0.5 to 1


@dataclass(frozen=True)
class InjectionVerdict:
    flagged: bool
    score: float  # the probability of an attack, of the worst piece
    decoded: bool  # the worst piece was hidden in base64


def injection_check(*, pieces: MessagePieces) -> InjectionVerdict:
    scores = injection_scores(vectors=np.vstack([pieces.vectors, pieces.clause_vectors]))
    worst = int(scores.argmax())
    return InjectionVerdict(
        flagged=bool(scores[worst] >= THRESHOLD),
        score=round(float(scores[worst]), 4),
        decoded=[*pieces.decoded, *pieces.clauses_decoded][worst],
    )


def injection_scores(*, vectors: np.ndarray) -> np.ndarray:
    """The attack score of texts already embedded (such as stored chunks)."""
    return _classifier().scores(vectors)


@dataclass(frozen=True)
class InjectionClassifier:
    regression: LogisticRegression
    attacks: np.ndarray
    customers: np.ndarray

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        margin = (vectors @ self.attacks.T).max(axis=1) - (vectors @ self.customers.T).max(axis=1)
        nearest = np.clip(0.5 + NEAREST_SCALE * margin, 0, 1)
        probability = self.regression.predict_proba(vectors)[:, 1]
        return (1 - NEAREST_WEIGHT) * probability + NEAREST_WEIGHT * nearest


def injection_classifier_fit(*, attacks: np.ndarray, customers: np.ndarray) -> InjectionClassifier:
    """The classifier on embedded examples: Keel's own at start, and in the bench's
    cross-validation Keel's own with the training folds of the shared set."""
    regression = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    regression.fit(np.vstack([attacks, customers]), [1] * len(attacks) + [0] * len(customers))
    return InjectionClassifier(regression=regression, attacks=attacks, customers=customers)


@cache
def _classifier() -> InjectionClassifier:
    return injection_classifier_fit(
        attacks=texts_embed(texts=ATTACKS), customers=texts_embed(texts=CUSTOMERS)
    )
