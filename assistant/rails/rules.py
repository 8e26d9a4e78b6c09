"""Does a message match one of the policy's rules (a refused topic, an escalation rule)?

By meaning, not keywords: the rule's examples are embedded (and remembered), and the
message matches when one of its pieces is close enough to one example, and closer to it
than to any of the rule's counter-examples. Admins add an example when a phrasing is
missed, a counter-example when a look-alike is caught; nothing is retrained.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.policy_rules import Rule
from knowledge.embeddings import texts_embed_cached


@dataclass(frozen=True)
class RuleMatch:
    label: str
    example: str  # the example it is closest to
    score: float  # cosine similarity
    say: str = ""  # the rule's safety message, for an escalation rule that has one


def rule_match(*, vectors: np.ndarray, rules: Sequence[Rule], threshold: float) -> RuleMatch | None:
    """The rule closest to any of `vectors` (normalised embeddings), if at `threshold`."""
    if not len(vectors):
        return None
    matches = [_nearest(vectors=vectors, rule=rule) for rule in rules]
    best = max((match for match in matches if match), key=lambda match: match.score, default=None)
    return best if best and best.score >= threshold else None


def _nearest(*, vectors: np.ndarray, rule: Rule) -> RuleMatch | None:
    """The rule's example nearest to one of the pieces, counting only the pieces that are
    nearer to an example than to every counter-example (a look-alike the rule must leave)."""
    similarities = vectors @ texts_embed_cached(list(rule.examples)).T  # pieces by examples
    nearest = similarities.max(axis=1)
    if rule.counter_examples:
        look_alike = (vectors @ texts_embed_cached(list(rule.counter_examples)).T).max(axis=1)
        nearest = np.where(nearest > look_alike, nearest, -np.inf)
    piece = int(nearest.argmax())
    if nearest[piece] == -np.inf:
        return None
    return RuleMatch(
        label=rule.label,
        example=rule.examples[int(similarities[piece].argmax())],
        score=round(float(nearest[piece]), 4),
        say=rule.say,
    )
