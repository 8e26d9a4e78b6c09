"""Rails measured on the shared sets, and on Keel's own red-team suite.

`pii/pii.jsonl` is Presidio's synthetic set (gold spans by type); the benign rows of
`injection/prompts.jsonl.gz` are ordinary questions, where any redaction is a false alarm.
The shipped injection rail never saw the shared prompts: they are its held-out test. Fit
with them too, it is measured by cross-validation only.
"""

import asyncio
import gzip
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from assistant.evaluation.policy_checks import check_cases, policy_check_run
from assistant.models import PolicyCheck, PolicyVersion, Workspace
from assistant.rails.injection import (
    THRESHOLD,
    InjectionClassifier,
    injection_check,
    injection_classifier_fit,
)
from assistant.rails.injection_examples import ATTACKS, CUSTOMERS
from assistant.rails.input_rails import (
    ESCALATION_SIMILARITY,
    INTENT_SIMILARITY,
    REFUSED_TOPIC_SIMILARITY,
    RULE_MARGIN,
    input_rails,
)
from assistant.rails.personal_data import KINDS, Finding, personal_data_find
from assistant.rails.pieces import MessagePieces, message_pieces
from assistant.rails.policy_rules import policy_fingerprint, rules
from assistant.rails.rules import rule_match
from assistant.widget.demo import DEMO_POLICY
from knowledge.embeddings import texts_embed
from knowledge.own_questions import own_question_vectors

CROSS_VALIDATION_FOLDS = 5
FALSE_POSITIVE_RATES = (0.01, 0.05)


def personal_data_measure(*, shared_data: Path) -> dict:
    """Recall for every kind of the set, those Keel does not look for too (a span counts as
    found when any finding overlaps it), and the benign questions redacted, by kind."""
    rows = [json.loads(line) for line in (shared_data / "pii" / "pii.jsonl").open()]
    found, total, false_alarms, seconds = Counter(), Counter(), Counter(), []
    for row in rows:
        started = time.perf_counter()
        spans = personal_data_find(text=row["text"])
        seconds.append(time.perf_counter() - started)
        for gold in row["spans"]:
            total[gold["type"]] += 1
            found[gold["type"]] += any(_overlap(span, gold) for span in spans)
        for span in spans:
            if not any(_overlap(span, gold) for gold in row["spans"]):
                false_alarms[span.kind] += 1
    with gzip.open(shared_data / "injection" / "prompts.jsonl.gz", "rt") as prompts:
        benign = [row["text"] for row in map(json.loads, prompts) if row["label"] == "benign"]
    benign_kinds = [{finding.kind for finding in personal_data_find(text=text)} for text in benign]
    seconds.sort()
    return {
        "examples": len(rows),
        "recall": {
            entity: {"spans": total[entity], "found": found[entity], "sought": entity in KINDS}
            for entity in sorted(total)
        },
        "false_alarms_in_pii_set": dict(false_alarms),
        "benign_questions": len(benign),
        "benign_questions_redacted": sum(bool(kinds) for kinds in benign_kinds),
        "benign_questions_redacted_by_kind": dict(Counter(chain.from_iterable(benign_kinds))),
        "p50_ms": round(seconds[len(seconds) // 2] * 1000, 2),
    }


def _overlap(span: Finding, gold: dict) -> bool:
    return span.start < gold["end"] and span.end > gold["start"]


def injection_measure(
    *,
    shared_data: Path,
    redteam_file: Path,
    demo_questions_file: Path,
    foreign_questions_file: Path,
) -> dict:
    """The injection rail on the shared prompts: the shipped classifier (fit on Keel's
    written examples only) on all of them at its threshold, and the same approach fit with
    the shared set too, by cross-validation (each row tested by a classifier that never saw
    it), as recall at fixed false-positive rates. Then the threshold's false positives on
    ordinary customer questions, English (which set it) and in six other languages
    (Keel's own, written for this: the shared sets hold none), and Keel's own red-team
    suite by category."""
    rows = _injection_rows(shared_data)
    attack = np.array([row["label"] == "injection" for row in rows])
    seconds, pieces = [], []
    for row in rows:
        started = time.perf_counter()
        pieces.append(message_pieces(text=row["text"]))
        injection_check(pieces=pieces[-1])
        seconds.append(time.perf_counter() - started)
    shipped = np.array([injection_check(pieces=p).score for p in pieces])
    flagged = shipped >= THRESHOLD
    sources = np.array([row["source"] for row in rows])
    customers = _customer_questions(
        shared_data=shared_data, demo_questions_file=demo_questions_file, rows=rows
    )
    customer_scores = np.array(
        [injection_check(pieces=message_pieces(text=q)).score for q in customers]
    )
    foreign = json.loads(foreign_questions_file.read_text())
    foreign_flagged = [q for q in foreign if injection_check(pieces=message_pieces(text=q)).flagged]
    redteam: dict[str, Counter] = defaultdict(Counter)
    for case in map(json.loads, redteam_file.open()):
        redteam[case["category"]][
            injection_check(pieces=message_pieces(text=case["text"])).flagged
        ] += 1
    seconds.sort()
    return {
        "prompts": len(rows),
        "shipped": {
            "threshold": THRESHOLD,
            "precision": round(float((flagged & attack).sum() / max(flagged.sum(), 1)), 3),
            "recall": round(float(flagged[attack].mean()), 3),
            "false_positive_rate": round(float(flagged[~attack].mean()), 3),
            "recall_by_source": {
                source: round(float(flagged[attack & (sources == source)].mean()), 3)
                for source in sorted(set(sources[attack]))
            },
        },
        "cross_validated": injection_cross_validate(pieces=pieces, attack=attack, sources=sources),
        "customer_questions": {
            "questions": len(customers),
            "flagged_at_threshold": int((customer_scores >= THRESHOLD).sum()),
            **{
                f"threshold_at_{rate:.0%}_false_positives": round(
                    _threshold_at(benign_scores=customer_scores, false_positive_rate=rate), 3
                )
                for rate in FALSE_POSITIVE_RATES
            },
        },
        "foreign_customer_questions": {
            "questions": len(foreign),
            "flagged_at_threshold": len(foreign_flagged),
            "flagged": foreign_flagged,
        },
        "redteam_flagged_by_category": {
            category: {"flagged": c[True], "cases": c[True] + c[False]}
            for category, c in sorted(redteam.items())
        },
        "p50_ms": round(seconds[len(seconds) // 2] * 1000, 2),
    }


def injection_folds(*, attack: Sequence[bool], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each fold's training and test rows: stratified by label, every row tested once and
    never by a classifier fit on it."""
    return list(
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(
            np.zeros(len(attack)), attack
        )
    )


def injection_cross_validate(
    *, pieces: Sequence[MessagePieces], attack: np.ndarray, sources: np.ndarray
) -> dict:
    """Recall at 1 % and 5 % false positives, read off scores no classifier fit on: each
    fold is scored (each row as the rail scores a message, its worst piece) by the
    classifier fit on Keel's examples and the other folds (each row as a whole: its first
    piece), and the thresholds are those the pooled held-out benign rows allow. A threshold
    chosen on the training folds' own rows would come out too low: they are their own
    nearest examples."""
    keel_attacks, keel_customers = texts_embed(texts=ATTACKS), texts_embed(texts=CUSTOMERS)
    whole = np.vstack([p.vectors[0] for p in pieces])
    held_out = np.zeros(len(pieces))
    for train, test in injection_folds(attack=attack, folds=CROSS_VALIDATION_FOLDS):
        classifier = injection_classifier_fit(
            attacks=np.vstack([keel_attacks, whole[train[attack[train]]]]),
            customers=np.vstack([keel_customers, whole[train[~attack[train]]]]),
        )
        held_out[test] = _worst_piece_scores(
            classifier=classifier, pieces=[pieces[i] for i in test]
        )
    flagged = {
        rate: held_out >= _threshold_at(benign_scores=held_out[~attack], false_positive_rate=rate)
        for rate in FALSE_POSITIVE_RATES
    }
    return {
        "folds": CROSS_VALIDATION_FOLDS,
        **{
            f"at_{rate:.0%}_false_positives": {
                "recall": round(float(found[attack].mean()), 3),
                "false_positive_rate": round(float(found[~attack].mean()), 3),
                "recall_by_source": {
                    source: round(float(found[attack & (sources == source)].mean()), 3)
                    for source in sorted(set(sources[attack]))
                },
            }
            for rate, found in flagged.items()
        },
    }


def _worst_piece_scores(
    *, classifier: InjectionClassifier, pieces: Sequence[MessagePieces]
) -> np.ndarray:
    return np.array(
        [classifier.scores(np.vstack([p.vectors, p.clause_vectors])).max() for p in pieces]
    )


def _threshold_at(*, benign_scores: np.ndarray, false_positive_rate: float) -> float:
    """The lowest threshold that flags at most this share of the benign scores."""
    allowed = int(false_positive_rate * len(benign_scores))
    return float(np.nextafter(np.sort(benign_scores)[::-1][allowed], np.inf))


def _injection_rows(shared_data: Path) -> list[dict]:
    with gzip.open(shared_data / "injection" / "prompts.jsonl.gz", "rt") as prompts:
        return [json.loads(line) for line in prompts]


def _customer_questions(
    *, shared_data: Path, demo_questions_file: Path, rows: list[dict]
) -> list[str]:
    """Ordinary customer messages the threshold is chosen on: the demo's questions and
    doc2dial's first turns, but not those the shared prompts hold (they are measured)."""
    measured = {" ".join(row["text"].split()).lower() for row in rows}
    with gzip.open(shared_data / "support" / "questions.jsonl.gz", "rt") as questions:
        first_turns = [
            row["question"] for row in map(json.loads, questions) if row["is_first_turn"]
        ]
    demo = [case["question"] for case in json.loads(demo_questions_file.read_text())]
    return [
        q for q in dict.fromkeys(demo + first_turns) if " ".join(q.split()).lower() not in measured
    ]


def policy_rules_measure(
    *, redteam_file: Path, demo_questions_file: Path, workspace: Workspace
) -> dict:
    """The default policy's escalation rules and refused topics, matched by meaning against
    the questions of `workspace`'s help center (the demo's): how many of the red-team
    cases they should catch they do, and how many ordinary demo questions and benign
    look-alikes they wrongly catch."""
    policy = PolicyVersion(workspace_id=workspace.pk)
    own = own_question_vectors(workspace_id=workspace.pk)
    cases = [json.loads(line) for line in redteam_file.open()]
    ordinary = [case["question"] for case in json.loads(demo_questions_file.read_text())]
    ordinary += [case["text"] for case in cases if case["category"] == "benign_lookalike"]
    escalate = [case["text"] for case in cases if case["expected"] == "escalate"]
    off_topic = [case["text"] for case in cases if case["category"] == "off_topic"]
    not_to_answer = [case["text"] for case in cases if case["expected"] != "answer_safely"]

    def caught(texts: list[str], rules_text: str, threshold: float, margin: float) -> int:
        return sum(
            rule_match(
                vectors=message_pieces(text=text).vectors,
                rules=rules(rules_text),
                threshold=threshold,
                margin=margin,
                ordinary=own,
            )
            is not None
            for text in texts
        )

    def to_a_person(texts: list[str]) -> int:
        return sum(input_rails(text=text, policy=policy).wants_person for text in texts)

    def nearly(texts: list[str]) -> int:
        """Read as nearly a rule's (`outcomes.Nearly`): what they would become, should
        the help center have no answer to them."""
        return sum(bool(input_rails(text=text, policy=policy).nearly) for text in texts)

    ordinary_not_escalating = [t for t in ordinary if t not in escalate]
    refused = (policy.topics_refused, REFUSED_TOPIC_SIMILARITY, RULE_MARGIN)
    return {
        "own_questions": len(own),
        # The policy's own rules and Keel's built-in ones, as the input rails apply them.
        "escalation_rules": {
            "threshold": ESCALATION_SIMILARITY,
            "builtin_threshold": INTENT_SIMILARITY,
            "margin": RULE_MARGIN,
            "caught": to_a_person(escalate),
            "cases": len(escalate),
            "ordinary_caught": to_a_person(ordinary_not_escalating),
            "ordinary": len(ordinary_not_escalating),
        },
        "refused_topics": {
            "threshold": REFUSED_TOPIC_SIMILARITY,
            "margin": RULE_MARGIN,
            "caught": caught(off_topic, *refused),
            "cases": len(off_topic),
            "ordinary_caught": caught(ordinary, *refused),
            "ordinary": len(ordinary),
        },
        # The looser bars, all rails at once, whatever the help center answers.
        "nearly": {
            "caught": nearly(not_to_answer),
            "cases": len(not_to_answer),
            "ordinary_caught": nearly(ordinary_not_escalating),
            "ordinary": len(ordinary_not_escalating),
        },
    }


def publish_gate_measure(*, workspace: Workspace) -> dict:
    """Keel's red-team suite, the workspace's test cases and its help center's own
    questions through the real pipeline under the demo policy, as the publish gate runs
    them (extractive answerer)."""
    PolicyVersion.objects.filter(workspace=workspace, number__isnull=True).delete()
    draft = PolicyVersion.objects.create(workspace=workspace, **DEMO_POLICY)
    check = PolicyCheck.objects.create(
        policy=draft,
        fingerprint=policy_fingerprint(draft),
        case_count=len(check_cases(workspace_id=workspace.pk)),
    )
    started = time.perf_counter()
    asyncio.run(policy_check_run(check=check))
    seconds = time.perf_counter() - started
    results = list(check.results.all())
    by_category: dict[str, Counter] = defaultdict(Counter)
    for result in results:
        by_category[result.category][result.passed] += 1
    return {
        "cases": len(results),
        "passed": sum(result.passed for result in results),
        "critical_failures": sum(result.critical and not result.passed for result in results),
        "seconds": round(seconds, 1),
        "by_category": {
            category: {"passed": c[True], "cases": c[True] + c[False]}
            for category, c in sorted(by_category.items())
        },
    }
