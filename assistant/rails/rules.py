"""Does a message match one of the policy's rules (a refused topic, an escalation rule)?

By meaning, not keywords: the rule's examples are embedded (and remembered), and the
message matches when one of its pieces is close enough to one example. Admins add an
example when a phrasing is missed; nothing is retrained.
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


def rule_match(*, vectors: np.ndarray, rules: Sequence[Rule], threshold: float) -> RuleMatch | None:
    """The rule closest to any of `vectors` (normalised embeddings), if at `threshold`."""
    examples = [(rule.label, example) for rule in rules for example in rule.examples]
    if not examples or not len(vectors):
        return None
    similarities = vectors @ texts_embed_cached([example for _, example in examples]).T
    _, best = np.unravel_index(int(similarities.argmax()), similarities.shape)
    score = float(similarities.max())
    if score < threshold:
        return None
    label, example = examples[best]
    return RuleMatch(label=label, example=example, score=round(score, 4))
