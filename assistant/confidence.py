"""How likely an answer is right, from signals measured while answering it.

- the best passage's cosine similarity to the question, and its margin over the next one
  (one clearly matching passage beats several vague ones);
- agreement: the best passage by meaning was also found by keywords;
- grounding coverage: the share of the answer's sentences the output rails kept.

A logistic function of these, its weights fitted on the demo help center's questions (an
answer is right when it cites the article the question was written for) and Keel's
red-team cases (any answer to them is wrong); `make bench` reports how well the result
is calibrated. So a threshold of 0.5 means: more likely right than wrong.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.search import Hit

# Fitted by bench/confidence.py (logistic regression, C=1) on 30 demo questions and the
# red-team suite's answered cases.
INTERCEPT = -4.0
WEIGHTS = {"best": 9.0, "margin": 6.0, "agreement": 0.8, "coverage": 1.0}


@dataclass(frozen=True)
class Signals:
    best: float
    margin: float
    agreement: float  # 1 if the best passage matched by keywords too
    coverage: float  # kept sentences / all sentences of the draft

    def as_dict(self) -> dict[str, float]:
        return {name: round(getattr(self, name), 4) for name in WEIGHTS}


def signals_of(*, sources: Sequence[Hit], kept: int, removed: int) -> Signals:
    similarities = sorted((float(hit.similarity or 0.0) for hit in sources), reverse=True)
    best = similarities[0] if similarities else 0.0
    top = max(sources, key=lambda hit: hit.similarity or 0.0, default=None)
    return Signals(
        best=best,
        margin=best - (similarities[1] if len(similarities) > 1 else 0.0),
        agreement=1.0 if top is not None and top.keyword_score is not None else 0.0,
        coverage=kept / (kept + removed) if kept + removed else 0.0,
    )


def confidence_of(signals: Signals) -> float:
    score = INTERCEPT + sum(weight * getattr(signals, name) for name, weight in WEIGHTS.items())
    return round(1 / (1 + math.exp(-score)), 4)
