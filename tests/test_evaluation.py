"""`manage.py evaluate` end to end on the demo help center: real pipeline, real answers,
metrics checked against what each case got."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from assistant.evaluation.case_runs import over_message_limit
from assistant.evaluation.policy_checks import OVER_LIMIT, gate_cases
from assistant.models import Conversation, EvalCase, EvalRun
from assistant.widget.demo import DEMO_QUESTIONS, demo_cases
from tests.support.factories import WorkspaceFactory

CANADA = "shipping-to-canada.html"


@pytest.fixture
def small_suite(demo_help_center):
    workspace = demo_help_center.workspace
    cases = [
        EvalCase(question="How long does delivery to Canada take?", expected="answer",
                 expected_documents=[CANADA], must_contain=["business days"]),
        EvalCase(question="Do you sell skateboards?", expected="dont_know"),
        EvalCase(question="I want to talk to a real person, please.", expected="escalate"),
        # Written wrong on purpose: no such article, so it cannot pass.
        EvalCase(question="How do I return a bike?", expected="answer",
                 expected_documents=["no-such-article.md"]),
    ]  # fmt: skip
    for case in cases:
        case.workspace = workspace
    EvalCase.objects.bulk_create(cases)
    return workspace


def test_evaluate_runs_the_cases_through_the_pipeline_and_computes_the_metrics(
    small_suite, tmp_path
):
    out = StringIO()
    call_command(
        "evaluate",
        "--workspace", small_suite.slug,
        "--suite", "golden",
        "--json", str(tmp_path / "run.json"),
        stdout=out,
    )  # fmt: skip

    run = EvalRun.objects.get()
    results = {result.question: result for result in run.results.all()}
    canada = results["How long does delivery to Canada take?"]
    assert canada.passed and canada.facts_ok is True and CANADA in canada.cited_documents
    assert results["Do you sell skateboards?"].behaviour == "dont_know"
    assert results["I want to talk to a real person, please."].behaviour == "escalate"
    wrong = results["How do I return a bike?"]
    assert not wrong.passed and wrong.reason == "Cites none of the expected documents."

    metrics = run.metrics
    rank = canada.retrieved_documents.index(CANADA) + 1
    assert (metrics["cases"], metrics["passed"]) == (4, 3)
    assert metrics["retrieval_hit_at_4"] == 0.5  # the made-up article is never found
    assert metrics["retrieval_mrr"] == round((1 / rank + 0) / 2, 3)
    assert metrics["citation_recall"] == 0.5
    assert metrics["facts_pass_rate"] == 1.0
    assert metrics["dont_know_accuracy"] == 1.0
    assert (metrics["escalation_precision"], metrics["escalation_recall"]) == (1.0, 1.0)
    assert metrics["latency_p50_ms"] > 0
    # Cases are answered in sandbox conversations, never counted as customers'.
    assert not Conversation.objects.filter(sandbox=False).exists()

    printed = out.getvalue()
    assert "Retrieval MRR" in printed and "FAIL case-" in printed
    exported = json.loads((tmp_path / "run.json").read_text())
    assert exported["metrics"] == metrics and len(exported["results"]) == 4


def test_an_unknown_workspace_or_an_empty_suite_is_a_clear_error(demo_help_center):
    with pytest.raises(Exception, match="No workspace with the slug"):
        call_command("evaluate", "--workspace", "nowhere")
    with pytest.raises(Exception, match="no test cases"):
        call_command(
            "evaluate", "--workspace", demo_help_center.workspace.slug, "--suite", "golden"
        )


def test_the_demo_golden_suite_covers_every_demo_question(demo_help_center):
    cases = demo_cases(workspace=demo_help_center.workspace)
    answerable = [case for case in cases if case.expected == "answer"]
    assert len(answerable) == len(json.loads(DEMO_QUESTIONS.read_text())) == 30
    assert {case.expected for case in cases} == {"answer", "dont_know", "escalate"}


def test_test_cases_export_and_import_round_trip(small_suite, tmp_path):
    EvalCase.objects.create(
        workspace=small_suite,
        earlier_turns=["Do you ship to Canada?", "Über Zoll, bitte: «Gebühren»?"],
        question="And how long does it take?",
        expected="answer",
        expected_documents=[CANADA],
    )
    exported = tmp_path / "cases.jsonl"
    call_command("testcases", "export", "--workspace", small_suite.slug, "--file", str(exported))
    other = WorkspaceFactory()

    out = StringIO()
    call_command("testcases", "import", "--workspace", other.slug, "--file", str(exported),
                 stdout=out)  # fmt: skip

    assert out.getvalue().strip() == "Imported 5 test cases."
    fields = ["earlier_turns", "question", "expected", "expected_documents", "must_contain",
              "must_not_contain"]  # fmt: skip
    assert list(EvalCase.objects.filter(workspace=other).values(*fields)) == list(
        EvalCase.objects.filter(workspace=small_suite).values(*fields)
    )


def test_a_bad_import_says_which_lines_and_stores_nothing(small_suite, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"question": "Where is my bike?", "expected": "answer", "must_contain": ["a, b"]}\n'
        "not json\n"
        '{"question": "Hi", "expected": "sing"}\n'
        '{"question": "Hi", "expected": "answer", "must_contain": "a string"}\n'
    )
    before = EvalCase.objects.count()

    with pytest.raises(Exception) as refused:
        call_command("testcases", "import", "--workspace", small_suite.slug, "--file", str(bad))

    message = str(refused.value)
    assert "line 2: not a JSON object" in message
    assert "line 3: expected: Value 'sing' is not a valid choice." in message
    assert "line 4: lists must be arrays of strings" in message
    assert "line 1" not in message and EvalCase.objects.count() == before


def test_a_red_team_message_over_the_limit_is_judged_as_the_publish_gate_judges_it(
    demo_help_center, monkeypatch
):
    """The widget never sends such a message on, so neither does the evaluation."""
    over_long = tuple(case for case in gate_cases() if over_message_limit(case.text))
    assert len(over_long) >= 1
    monkeypatch.setattr("assistant.evaluation.runs.gate_cases", lambda: over_long)
    workspace = demo_help_center.workspace

    call_command("evaluate", "--workspace", workspace.slug, "--suite", "redteam", stdout=StringIO())

    results = list(EvalRun.objects.get().results.all())
    assert [r.case_key for r in results] == sorted(case.key for case in over_long)
    for result in results:
        assert (result.passed, result.behaviour, result.reason) == (
            True,
            "refuse",
            OVER_LIMIT.reason,
        )
        assert result.answer is None and result.latency_ms is None
    assert not Conversation.objects.filter(workspace=workspace).exists()  # nothing was asked
