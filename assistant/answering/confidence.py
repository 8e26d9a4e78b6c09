"""How likely an answer is right, from signals measured while answering it.

- the best passage's cosine similarity to the question, and its margin over the next one
  (one clearly matching passage should beat several vague ones);
- grounding coverage: the share of the answer's sentences that its sources support (a
  sentence removed for naming a competitor says nothing about the rest).

The first two go through a logistic function fitted by `make bench` (section answers) on
the demo help center's questions (an answer is right when it cites the article the
question was written for) and on Keel's red-team cases that should get no answer (any
answer is wrong): 50 answers, 23 right. Coverage cannot be fitted on quotes (always 1),
so it enters as a stated prior: an answer none of whose sentences its sources supported
keeps half the confidence, one with all of them supported keeps it all. Keyword
agreement was measured and dropped: the best passage was found by both searches in
every case.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.search import Hit

# LogisticRegression(C=10) on those answers (ROC AUC 0.78); `make bench` refits and
# prints the weights beside the calibration of these.
INTERCEPT = -3.0
WEIGHTS = {"best": 5.3, "margin": -0.5}


@dataclass(frozen=True)
class Signals:
    best: float
    margin: float
    coverage: float  # supported sentences / all sentences of the draft

    def as_dict(self) -> dict[str, float]:
        return {name: round(getattr(self, name), 4) for name in ("best", "margin", "coverage")}


def signals_of(*, sources: Sequence[Hit], kept: int, ungrounded: int) -> Signals:
    similarities = sorted((float(hit.similarity or 0.0) for hit in sources), reverse=True)
    best = similarities[0] if similarities else 0.0
    return Signals(
        best=best,
        margin=best - (similarities[1] if len(similarities) > 1 else 0.0),
        coverage=kept / (kept + ungrounded) if kept + ungrounded else 0.0,
    )


def confidence_of(signals: Signals) -> float:
    score = INTERCEPT + sum(weight * getattr(signals, name) for name, weight in WEIGHTS.items())
    return round((1 + signals.coverage) / 2 / (1 + math.exp(-score)), 4)
