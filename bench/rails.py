"""Rails measured on the shared sets, and on Keel's own red-team suite.

`pii/pii.jsonl` is Presidio's synthetic set (gold spans by type); the benign rows of
`injection/prompts.jsonl.gz` are ordinary questions, where any redaction is a false alarm.
The injection rail never saw the shared prompts: they are its held-out test.
"""

import asyncio
import gzip
import json
import time
from collections import Counter, defaultdict
from itertools import chain
from pathlib import Path

from assistant.demo import DEMO_POLICY
from assistant.models import PolicyCheck, PolicyVersion, Workspace
from assistant.policy_checks import check_cases, policy_check_run
from assistant.policy_rules import policy_fingerprint, rules
from assistant.rails.injection import injection_check
from assistant.rails.input_rails import (
    ESCALATION_SIMILARITY,
    INTENT_SIMILARITY,
    REFUSED_TOPIC_SIMILARITY,
    RULE_MARGIN,
    input_rails,
)
from assistant.rails.personal_data import KINDS, Finding, personal_data_find
from assistant.rails.pieces import message_pieces
from assistant.rails.rules import rule_match
from knowledge.own_questions import own_question_vectors


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


def injection_measure(*, shared_data: Path, redteam_file: Path) -> dict:
    with gzip.open(shared_data / "injection" / "prompts.jsonl.gz", "rt") as prompts:
        rows = [json.loads(line) for line in prompts]
    by_source: dict[str, Counter] = defaultdict(Counter)
    seconds = []
    for row in rows:
        started = time.perf_counter()
        flagged = injection_check(pieces=message_pieces(text=row["text"])).flagged
        seconds.append(time.perf_counter() - started)
        by_source[row["source"]][(row["label"], flagged)] += 1
    counts = sum(by_source.values(), Counter())
    true_positives = counts[("injection", True)]
    flagged_all = true_positives + counts[("benign", True)]
    redteam: dict[str, Counter] = defaultdict(Counter)
    for case in map(json.loads, redteam_file.open()):
        redteam[case["category"]][
            injection_check(pieces=message_pieces(text=case["text"])).flagged
        ] += 1
    seconds.sort()
    return {
        "prompts": len(rows),
        "precision": round(true_positives / max(flagged_all, 1), 3),
        "recall": round(true_positives / (true_positives + counts[("injection", False)]), 3),
        "benign_false_positive_rate": round(
            counts[("benign", True)] / (counts[("benign", True)] + counts[("benign", False)]), 3
        ),
        "by_source": {
            source: {
                f"{label}_{'flagged' if flag else 'passed'}": n for (label, flag), n in c.items()
            }
            for source, c in by_source.items()
        },
        "redteam_flagged_by_category": {
            category: {"flagged": c[True], "cases": c[True] + c[False]}
            for category, c in sorted(redteam.items())
        },
        "p50_ms": round(seconds[len(seconds) // 2] * 1000, 2),
    }


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
