"""Admins run evaluations from a Keel page (a background job, run by a real worker), read
the report beside the previous run with regressions first, export it as JSON, keep their
test cases on a page, and may have an LLM judge faithfulness."""

import json

import pytest
from django.urls import reverse

from assistant.models import EvalCase, EvalRun, Membership
from bench.llm_server import Reply, first_source
from tests.support.access import assert_admins_only
from tests.support.chat import visible_text
from tests.support.factories import MembershipFactory

CANADA = "shipping-to-canada.html"
URL_NAMES_GET = ["evaluation", "evaluation_runs", "eval_cases", "eval_cases_export"]
URL_NAMES_POST = ["evaluation_start", "eval_case_add", "eval_cases_import"]


def url(name: str, workspace, *args) -> str:
    return reverse(name, args=[workspace.slug, *args])


def page_text(response) -> str:
    return visible_text(response.content.decode())


@pytest.fixture
def knowledge_base(demo_help_center):
    """The admin fixtures' workspace is the demo help center's: the cases get answers."""
    return demo_help_center


@pytest.fixture
def cases(admin_membership):
    workspace = admin_membership.workspace
    return [
        EvalCase.objects.create(
            workspace=workspace,
            question="How long does delivery to Canada take?",
            expected="answer",
            expected_documents=[CANADA],
        ),
        EvalCase.objects.create(
            workspace=workspace, question="Do you sell skateboards?", expected="dont_know"
        ),
    ]


def run_from_the_page(admin_client, workspace, job_queue, **fields) -> EvalRun:
    response = admin_client.post(
        url("evaluation_start", workspace), {"suite": "golden", "policy": "live", **fields}
    )
    run = EvalRun.objects.latest("pk")
    assert response.url == url("evaluation_run", workspace, run.pk)
    assert run.status == EvalRun.Status.QUEUED
    page = admin_client.get(response.url).content.decode()
    assert "Waiting for a worker" in page and 'hx-trigger="every 1s"' in page
    job_queue()
    run.refresh_from_db()
    return run


def test_every_evaluation_page_needs_an_admin_of_the_workspace(client, admin_membership, cases):
    workspace = admin_membership.workspace
    run = EvalRun.objects.create(workspace=workspace, suite="golden", case_count=2)
    case = cases[0]
    everything = [
        *(("get", url(name, workspace)) for name in URL_NAMES_GET),
        *(("post", url(name, workspace)) for name in URL_NAMES_POST),
        ("get", url("evaluation_run", workspace, run.pk)),
        ("get", url("evaluation_progress", workspace, run.pk)),
        ("get", url("evaluation_json", workspace, run.pk)),
        ("get", url("eval_case", workspace, case.pk)),
        ("get", url("eval_case_edit", workspace, case.pk)),
        ("post", url("eval_case_edit", workspace, case.pk)),
        ("post", url("eval_case_delete", workspace, case.pk)),
    ]
    assert_admins_only(client, workspace, everything)
    assert EvalCase.objects.count() == 2 and EvalRun.objects.count() == 1


def test_an_admin_of_another_workspace_sees_none_of_its_runs_or_cases(client, cases):
    run = EvalRun.objects.create(workspace=cases[0].workspace, suite="golden", case_count=2)
    stranger = MembershipFactory(role=Membership.Role.ADMIN)
    client.force_login(stranger.user)
    theirs = stranger.workspace
    assert client.get(url("evaluation_run", theirs, run.pk)).status_code == 404
    assert client.get(url("evaluation_json", theirs, run.pk)).status_code == 404
    assert client.post(url("eval_case_delete", theirs, cases[0].pk)).status_code == 404
    assert client.get(url("eval_cases_export", theirs)).content == b""


def test_a_run_started_on_the_page_runs_in_the_worker_and_reports(
    admin_client, admin_membership, cases, job_queue
):
    workspace = admin_membership.workspace

    run = run_from_the_page(admin_client, workspace, job_queue)

    assert run.status == EvalRun.Status.FINISHED and run.started_by == admin_membership.user
    assert (run.metrics["cases"], run.metrics["passed"]) == (2, 2)
    progress = admin_client.get(url("evaluation_progress", workspace, run.pk))
    assert progress.headers["HX-Refresh"] == "true"  # finished: the report replaces it
    page = page_text(admin_client.get(url("evaluation_run", workspace, run.pk)))
    assert "The first finished run of this suite" in page
    assert "Retrieval MRR" in page and f"cited {CANADA}" in page
    assert "Do you sell skateboards?" in page and "0 regressions" in page
    listed = page_text(admin_client.get(url("evaluation", workspace)))
    assert f"#{run.pk}" in listed and "2 of 2" in listed

    exported = admin_client.get(url("evaluation_json", workspace, run.pk))
    assert exported.headers["Content-Disposition"].startswith("attachment")
    report = json.loads(exported.content)
    assert report["metrics"] == run.metrics and report["previous_run"] is None
    assert {r["question"] for r in report["results"]} == {c.question for c in cases}
    assert all(r["answer_id"] for r in report["results"])


def test_the_next_run_is_compared_and_lists_its_regressions_first(
    admin_client, admin_membership, cases, job_queue
):
    workspace = admin_membership.workspace
    first = run_from_the_page(admin_client, workspace, job_queue)
    # The knowledge base loses the Canada article: the case that passed now fails.
    workspace.knowledge_bases.get().documents.filter(source__endswith=CANADA).delete()

    second = run_from_the_page(admin_client, workspace, job_queue)

    report = json.loads(admin_client.get(url("evaluation_json", workspace, second.pk)).content)
    assert report["previous_run"] == first.pk
    first_listed = report["results"][0]
    assert (first_listed["question"], first_listed["change"]) == (cases[0].question, "regression")
    compared = {change["name"]: change for change in report["compared"]}
    assert compared["passed"]["direction"] == ""  # a count, not a figure to judge
    assert compared["retrieval_hit_at_4"] == {
        "name": "retrieval_hit_at_4",
        "label": "Retrieval hit@4",
        "current": 0.0,
        "previous": 1.0,
        "direction": "worse",
    }
    assert compared["dont_know_accuracy"]["direction"] == "same"
    response = admin_client.get(url("evaluation_run", workspace, second.pk))
    rows = response.content.decode().split('data-case="')[1:]
    assert rows[0].startswith(f"case-{cases[0].pk}") and "regression" in rows[0]
    assert "1 regression (passed in the previous run, fail now)" in page_text(response)


def test_a_run_that_fails_says_why_and_a_retry_goes_on_where_it_stopped(
    admin_client, admin_membership, cases, job_queue, monkeypatch
):
    from assistant.evaluation import case_runs

    workspace = admin_membership.workspace
    real_reply = case_runs.sandbox_reply
    calls = []

    async def second_case_breaks(**kwargs):
        calls.append(kwargs["text"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return await real_reply(**kwargs)

    monkeypatch.setattr(case_runs, "sandbox_reply", second_case_breaks)

    run = run_from_the_page(admin_client, workspace, job_queue)

    # The job is retried: the first case is not asked again, the second is.
    assert run.status == EvalRun.Status.FINISHED and run.results.count() == 2
    assert calls == [cases[0].question, cases[1].question, cases[1].question]


def test_a_run_that_cannot_finish_says_so_plainly_and_logs_the_error(
    admin_client, admin_membership, cases, monkeypatch, caplog
):
    import asyncio

    from assistant.evaluation import case_runs
    from assistant.evaluation import runs as evaluation_runs
    from assistant.evaluation.services import evaluation_start

    async def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(case_runs, "sandbox_reply", broken)
    run = evaluation_start(workspace=admin_membership.workspace, suite="golden", draft=False)
    with pytest.raises(RuntimeError):
        asyncio.run(evaluation_runs.evaluation_run(run=run))
    run.refresh_from_db()
    assert run.status == EvalRun.Status.FAILED
    assert "the database went away" in caplog.text  # for whoever runs Keel

    page = admin_client.get(
        reverse("evaluation_run", args=[admin_membership.workspace.slug, run.pk])
    ).content.decode()
    assert "Something went wrong on Keel&#x27;s side while running the cases" in page
    assert "the database went away" not in page


def test_admins_add_edit_and_delete_test_cases_on_the_page(admin_client, admin_membership):
    workspace = admin_membership.workspace
    response = admin_client.post(
        url("eval_case_add", workspace),
        {
            "earlier_turns": "Do you ship to Canada?\n\n",
            "question": "And how long does it take?",
            "expected": "answer",
            "expected_documents": f"{CANADA}\n",
            "must_contain": "business days\n<b>customs</b>",
            "must_not_contain": "",
        },
        headers={"HX-Request": "true"},
    )
    case = EvalCase.objects.get(workspace=workspace)
    assert (case.earlier_turns, case.expected_documents, case.must_contain) == (
        ["Do you ship to Canada?"],
        [CANADA],
        ["business days", "<b>customs</b>"],
    )
    assert "&lt;b&gt;customs&lt;/b&gt;" in response.content.decode()  # escaped

    refused = admin_client.post(
        url("eval_case_edit", workspace, case.pk), {"question": "", "expected": "sing"}
    )
    assert "This field is required." in refused.content.decode()
    assert "not one of the available choices" in refused.content.decode()
    admin_client.post(
        url("eval_case_edit", workspace, case.pk),
        {"earlier_turns": "", "question": "How long to Canada?", "expected": "dont_know",
         "expected_documents": "", "must_contain": "", "must_not_contain": ""},
    )  # fmt: skip
    case.refresh_from_db()
    assert (case.question, case.expected, case.earlier_turns) == (
        "How long to Canada?",
        "dont_know",
        [],
    )

    assert admin_client.post(url("eval_case_delete", workspace, case.pk)).status_code == 200
    assert not EvalCase.objects.exists()


def test_cases_import_on_the_page_is_all_or_nothing_and_exports_back(
    admin_client, admin_membership
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    workspace = admin_membership.workspace
    good = '{"question": "Where is my order?", "expected": "escalate"}\n'
    bad = good + '{"question": "Hi", "expected": "answer", "colour": "red"}\n'

    refused = admin_client.post(
        url("eval_cases_import", workspace),
        {"file": SimpleUploadedFile("cases.jsonl", bad.encode())},
    )
    assert refused.status_code == 400
    assert "line 2: unknown field(s) colour" in page_text(refused)
    assert not EvalCase.objects.exists()
    latin = admin_client.post(
        url("eval_cases_import", workspace),
        {"file": SimpleUploadedFile("cases.jsonl", "é".encode("latin-1"))},
    )
    assert "The file is not UTF-8 text." in page_text(latin)

    imported = admin_client.post(
        url("eval_cases_import", workspace),
        {"file": SimpleUploadedFile("cases.jsonl", ("\ufeff" + good).encode())},
    )
    assert "Imported 1 test case." in page_text(imported)
    exported = admin_client.get(url("eval_cases_export", workspace))
    assert json.loads(exported.content) == {
        "earlier_turns": [],
        "question": "Where is my order?",
        "expected": "escalate",
        "expected_documents": [],
        "must_contain": [],
        "must_not_contain": [],
    }


def test_an_llm_judge_scores_faithfulness_labelled_as_its_opinion(
    admin_client, admin_membership, cases, job_queue, llm_server
):
    workspace = admin_membership.workspace

    def respond(body: dict) -> Reply:
        if body["messages"][0]["content"].startswith("You check a support assistant"):
            return Reply(pieces=["Ships in 5 days: SUPPORTED\n", "Free: NOT SUPPORTED\n",
                                 "SUPPORTED 1 OF 2"])  # fmt: skip
        return Reply(pieces=[first_source(body).split(". ")[0] + " [1]."])

    llm_server.respond = respond
    page = page_text(admin_client.get(url("evaluation", workspace)))
    assert "Also score faithfulness with the LLM" in page

    run = run_from_the_page(admin_client, workspace, job_queue, judged="on")

    assert run.judge_model == "test-model"
    results = list(run.results.all())
    # Only answers are judged: they are the ones with claims to check.
    assert {r.faithfulness for r in results if r.behaviour == "answer"} == {0.5}
    assert {r.faithfulness for r in results if r.behaviour != "answer"} <= {None}
    assert run.metrics["judge_faithfulness"] == 0.5
    judge_requests = [
        r for r in llm_server.requests if r["messages"][0]["content"].startswith("You check")
    ]
    assert len(judge_requests) == sum(r.behaviour == "answer" for r in results) >= 1
    assert "SOURCES" in judge_requests[0]["messages"][1]["content"]
    report = page_text(admin_client.get(url("evaluation_run", workspace, run.pk)))
    assert "Faithfulness (LLM-as-judge)" in report and "a model's opinion" in report


def test_without_an_llm_there_is_no_judge_to_ask_for(admin_client, admin_membership):
    page = page_text(admin_client.get(url("evaluation", admin_membership.workspace)))
    assert "LLM-as-judge" not in page


def test_a_judge_that_fails_leaves_no_score_and_the_run_finishes(
    admin_client, admin_membership, cases, job_queue, llm_server
):
    def respond(body: dict) -> Reply:
        if body["messages"][0]["content"].startswith("You check a support assistant"):
            return Reply(status=500)
        return Reply(pieces=[first_source(body).split(". ")[0] + " [1]."])

    llm_server.respond = respond

    run = run_from_the_page(admin_client, admin_membership.workspace, job_queue, judged="on")

    assert run.status == EvalRun.Status.FINISHED and run.results.count() == 2
    assert not run.results.filter(faithfulness__isnull=False).exists()
    assert "judge_faithfulness" not in run.metrics  # no score beats a guessed one


def test_each_case_edit_form_has_ids_of_its_own(admin_client, admin_membership):
    """Beside the add form on the same page, each label must lead to its own field."""
    workspace = admin_membership.workspace
    case = EvalCase.objects.create(workspace=workspace, question="Do you ship to Canada?")
    editing = admin_client.get(url("eval_case_edit", workspace, case.pk)).content.decode()
    adding = admin_client.get(url("eval_cases", workspace)).content.decode()

    assert f'<label for="case-{case.pk}-question"' in editing
    assert f'id="case-{case.pk}-question"' in editing
    assert 'id="id_question"' in adding and 'id="id_question"' not in editing
