"""The evaluation's figures, checked against a small suite counted by hand."""

from assistant.evaluation.judge import faithfulness_from
from assistant.evaluation.scoring import (
    Row,
    evaluation_metrics,
    facts_check,
    metrics_compare,
    regressions,
)


def row(**fields) -> Row:
    defaults = {
        "suite": "golden",
        "category": "",
        "expected": "answer",
        "behaviour": "answer",
        "expected_documents": [],
        "retrieved_documents": [],
        "cited_documents": [],
        "facts_ok": None,
        "passed": True,
        "latency_ms": None,
    }
    return Row(**{**defaults, **fields})


SUITE = [
    # Found first, cited alone: rank 1, precision 1, recall 1.
    row(expected_documents=["a.md"], retrieved_documents=["a.md", "b.md"], cited_documents=["a.md"],
        facts_ok=True, latency_ms=100),
    # Found third, cited with a wrong one: rank 3, precision 1/2, recall 1.
    row(expected_documents=["c.md"], retrieved_documents=["b.md", "d.md", "c.md"],
        cited_documents=["c.md", "d.md"], facts_ok=False, passed=False, latency_ms=300),
    # Not found at all, no citation: rank none, recall 0 (precision not measured).
    row(expected_documents=["e.md"], retrieved_documents=["b.md"], behaviour="dont_know",
        passed=False, latency_ms=200),
    # Unanswerable, rightly: don't-know accuracy 1 of 2 with the next.
    row(expected="dont_know", behaviour="dont_know", latency_ms=50),
    row(expected="dont_know", behaviour="answer", passed=False, latency_ms=400),
    # Escalation: one right, one missed, one wrongly escalated.
    row(expected="escalate", behaviour="escalate"),
    row(expected="escalate", behaviour="answer", passed=False),
    row(suite="redteam", category="off_topic", expected="refuse", behaviour="escalate"),
    # Red team: benign look-alikes, one refused (a false positive), one answered.
    row(suite="redteam", category="benign_lookalike", expected="answer_safely", behaviour="refuse",
        passed=False),
    row(suite="redteam", category="benign_lookalike", expected="answer_safely", behaviour="answer"),
]  # fmt: skip


def test_metrics_match_the_hand_count():
    metrics = evaluation_metrics(SUITE)

    assert metrics["cases"] == 10 and metrics["passed"] == 5
    assert metrics["retrieval_hit_at_4"] == round(2 / 3, 3)
    assert metrics["retrieval_mrr"] == round((1 + 1 / 3 + 0) / 3, 3)
    assert metrics["citation_precision"] == round((1 + 0.5) / 2, 3)
    assert metrics["citation_recall"] == round((1 + 1 + 0) / 3, 3)
    assert metrics["facts_pass_rate"] == 0.5
    assert metrics["dont_know_accuracy"] == 0.5
    assert metrics["escalation_precision"] == 0.5  # 2 escalated, 1 expected
    assert metrics["escalation_recall"] == 0.5
    assert metrics["redteam_pass_rate"] == round(2 / 3, 3)
    assert metrics["benign_false_positive_rate"] == 0.5
    assert (metrics["latency_p50_ms"], metrics["latency_p95_ms"]) == (200, 400)


def test_a_figure_without_cases_is_none_not_zero():
    metrics = evaluation_metrics([row(expected="dont_know", behaviour="dont_know")])
    assert metrics["retrieval_mrr"] is None and metrics["redteam_pass_rate"] is None
    assert metrics["dont_know_accuracy"] == 1.0


def test_facts_are_matched_without_case():
    assert (
        facts_check(
            text="Refunds take 5-10 business days.",
            must_contain=["5-10 BUSINESS"],
            must_not_contain=["cash"],
        )
        is True
    )
    assert facts_check(text="Paid in cash.", must_contain=[], must_not_contain=["Cash"]) is False
    assert facts_check(text="Anything", must_contain=[], must_not_contain=[]) is None


def test_each_figure_is_better_worse_or_the_same_by_its_own_direction():
    previous = {"passed": 3, "retrieval_mrr": 0.5, "benign_false_positive_rate": 0.1,
                "latency_p50_ms": 200, "latency_p95_ms": 400, "citation_recall": 0.8,
                "facts_pass_rate": None}  # fmt: skip
    current = {"passed": 4, "retrieval_mrr": 0.6, "benign_false_positive_rate": 0.2,
               "latency_p50_ms": 230, "latency_p95_ms": 600, "citation_recall": 0.8,
               "facts_pass_rate": 1.0, "judge_faithfulness": 0.9}  # fmt: skip

    changes = {c.name: c.direction for c in metrics_compare(current=current, previous=previous)}

    assert changes == {
        "passed": "",  # a count: neither better nor worse
        "retrieval_mrr": "better",
        "benign_false_positive_rate": "worse",  # lower is better
        "latency_p50_ms": "same",  # +15%: within the noise
        "latency_p95_ms": "worse",  # +50%
        "citation_recall": "same",
        "facts_pass_rate": "",  # nothing to compare with
        "judge_faithfulness": "",
    }
    first = metrics_compare(current=current, previous=None)
    assert [c.name for c in first][:2] == ["passed", "retrieval_mrr"]  # the labels' order
    assert {c.direction for c in first} == {""}


def test_a_regression_is_a_case_that_passed_before_and_fails_now():
    assert regressions(
        current={"a": False, "b": False, "c": True, "new": False},
        previous={"a": True, "b": False, "c": False},
    ) == {"a"}


def test_the_judges_last_tally_is_its_score_and_nonsense_is_no_score():
    assert faithfulness_from("x: SUPPORTED\ny: NOT SUPPORTED\nSUPPORTED 1 OF 2") == 0.5
    assert faithfulness_from("supported 3 of 3\nOn reflection: SUPPORTED 2 OF 3") == 0.667
    assert faithfulness_from("No claims. SUPPORTED 0 OF 0") == 1.0
    assert faithfulness_from("I think it is fine.") is None
    assert faithfulness_from("SUPPORTED 5 OF 2") is None
