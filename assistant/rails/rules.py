"""Does a message match one of the policy's rules (a refused topic, an escalation rule)?

By meaning, not keywords: the rule's examples are embedded (and remembered), and a piece
of the message matches when it is close enough to one example and closer to the rule's
examples than to what the rule must not catch: its "not:" lines and the ordinary
questions of the workspace's own help center (`knowledge.own_questions`). So "how do I
delete a saved card?" is not "delete my account" when the help center answers it, and a
customer giving their own address is not asking for another customer's. Admins add an
example when a phrasing is missed and a "not:" line when a look-alike is caught; nothing
is retrained.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.rails.policy_rules import Rule
from knowledge.embeddings import texts_embed_cached
from knowledge.models import EMBEDDING_DIMENSIONS

NOTHING_ORDINARY = np.empty((0, EMBEDDING_DIMENSIONS), dtype=np.float32)


@dataclass(frozen=True)
class RuleMatch:
    label: str
    example: str  # the example it is closest to
    score: float  # cosine similarity
    margin: float  # over the nearest counter-example or own question (-1 if none)
    say: str = ""  # the rule's safety message, for an escalation rule that has one
    piece: str = ""  # the part of the message that matched (the whole, a sentence...)
    reading: str = ""  # the message read as a request or report, or for information


def rule_fires(*, similarity: float, against: float, threshold: float, margin: float) -> bool:
    """The one decision: close enough to an example, and nearer to it than to anything
    the rule must not catch, by `margin` (below zero: what it must not catch has to be
    nearer by that much to stop it)."""
    return similarity >= threshold and similarity - against >= margin


def rule_match(
    *,
    vectors: np.ndarray,
    rules: Sequence[Rule],
    threshold: float | Sequence[float],
    margin: float = 0.0,
    ordinary: np.ndarray = NOTHING_ORDINARY,
    texts: Sequence[str] = (),
) -> RuleMatch | None:
    """The rule that fires closest to one of `vectors` (normalised embeddings of the
    message's pieces, `texts` when they are to be named); `threshold`: one for all, or
    one per piece; `ordinary`: the own questions' vectors, against every rule."""
    if not rules or not len(vectors):
        return None
    bars = np.broadcast_to(np.asarray(threshold, dtype=float), (len(vectors),))
    examples = [(rule, example) for rule in rules for example in rule.examples]
    similarities = vectors @ texts_embed_cached([example for _, example in examples]).T
    nearest_ordinary = _nearest(vectors, ordinary)
    best: RuleMatch | None = None
    for rule in rules:
        columns = [index for index, (owner, _) in enumerate(examples) if owner is rule]
        against = np.maximum(
            nearest_ordinary, _nearest(vectors, texts_embed_cached(list(rule.counter_examples)))
        )
        for piece, (row, nearest) in enumerate(zip(similarities[:, columns], against, strict=True)):
            similarity = float(row.max())
            if best and similarity <= best.score:
                continue
            if rule_fires(
                similarity=similarity,
                against=float(nearest),
                threshold=float(bars[piece]),
                margin=margin,
            ):
                best = RuleMatch(
                    label=rule.label,
                    example=examples[columns[int(row.argmax())]][1],
                    score=round(similarity, 4),
                    margin=round(similarity - float(nearest), 4),
                    say=rule.say,
                    piece=texts[piece] if texts else "",
                )
    return best


def _nearest(vectors: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each vector's highest similarity to `others` (-1 when there are none)."""
    if not len(others):
        return np.full(len(vectors), -1.0, dtype=np.float32)
    return (vectors @ others.T).max(axis=1)
