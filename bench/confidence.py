"""Is the answer confidence calibrated? Answers to the demo questions (right when they cite
the article the question was written for) and to the red-team cases that should get no
answer (any answer is wrong), under a policy that lets every answer through. Fits the
logistic weights again, for `assistant.answering.confidence`, and reports how the shipped weights
do at the default threshold: of the answers above it, the share right; below, wrong."""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.db.models import Max
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from assistant.answering.confidence import WEIGHTS
from assistant.models import Message, PolicyVersion, Workspace
from bench.answers import answers_time, cites

NO_ANSWER_CATEGORIES = {
    "off_topic",
    "harmful",
    "competitor_bait",
    "brand_voice_trap",
    "other_customer_data",
    "role_play",
}


def confidence_measure(
    *,
    workspace: Workspace,
    questions: Sequence[str],
    expected_files: Sequence[str],
    redteam_file: Path,
) -> dict:
    highest = PolicyVersion.objects.filter(workspace=workspace).aggregate(Max("number"))
    number = (highest["number__max"] or 0) + 1
    PolicyVersion.objects.create(workspace=workspace, number=number, confidence_threshold=0.0)
    attacks = [
        case["text"]
        for case in map(json.loads, redteam_file.open())
        if case["category"] in NO_ANSWER_CATEGORIES and case["expected"] == "refuse"
    ]
    rows = [
        (answer, answer is not None and cites(answer, expected))
        for answer, expected in zip(
            answers_time(workspace=workspace, questions=questions), expected_files, strict=True
        )
    ]
    rows += [(answer, False) for answer in answers_time(workspace=workspace, questions=attacks)]
    answered = [(a, right) for a, right in rows if a and a.outcome == Message.Outcome.ANSWERED]
    features = np.array(
        [[a.trace["confidence"]["signals"][name] for name in WEIGHTS] for a, _ in answered]
    )
    labels = np.array([right for _, right in answered])
    PolicyVersion.objects.create(workspace=workspace, number=number + 1)  # the defaults again
    scores = [a.confidence for a, _ in answered]
    fitted = LogisticRegression(C=10.0, max_iter=5000).fit(features, labels)
    return {
        "answered": len(answered),
        "right": int(labels.sum()),
        "by_threshold": {
            str(threshold): _split(answered, scores, threshold)
            for threshold in (PolicyVersion().confidence_threshold, 0.5)
        },
        "refitted": {
            "intercept": round(float(fitted.intercept_[0]), 2),
            "roc_auc": round(float(roc_auc_score(labels, fitted.decision_function(features))), 3),
            **{name: round(float(w), 2) for name, w in zip(WEIGHTS, fitted.coef_[0], strict=True)},
        },
    }


def _split(answered: list, scores: list[float], threshold: float) -> dict:
    """Of the answers at or above the threshold, the share right; below it, wrong."""
    above = [
        right for (_, right), score in zip(answered, scores, strict=True) if score >= threshold
    ]
    below = [right for (_, right), score in zip(answered, scores, strict=True) if score < threshold]
    return {
        "above": len(above),
        "above_right_share": round(sum(above) / len(above), 3) if above else None,
        "below": len(below),
        "below_wrong_share": round(1 - sum(below) / len(below), 3) if below else None,
    }
