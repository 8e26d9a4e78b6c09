"""A test case is often a real customer's words: whichever way it is written (the cases
page, an import on the page or by `manage.py testcases`, an edit), its question and earlier
messages are stored with the personal data replaced by placeholders, as a chat stores them,
and so is the question an evaluation run's result keeps."""

import json
from io import StringIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from assistant.models import EvalCase, EvalRun
from tests.support.factories import PolicyVersionFactory

CARD = "4111 1111 1111 1111"
EMAIL = "dana.kowalski@fastmail.example"
QUESTION = f"My card {CARD} was charged twice for one bike service, why?"
QUESTION_REDACTED = "My card [CARD_1] was charged twice for one bike service, why?"
EARLIER = f"I wrote to you from {EMAIL} yesterday"
EARLIER_REDACTED = "I wrote to you from [EMAIL_1] yesterday"


def form_of(*, question: str, earlier: str = "") -> dict:
    return {
        "earlier_turns": earlier,
        "question": question,
        "expected": "escalate",
        "expected_documents": "",
        "must_contain": "",
        "must_not_contain": "",
    }


def stored(workspace) -> tuple[str, list[str]]:
    case = EvalCase.objects.get(workspace=workspace)
    return case.question, case.earlier_turns


def test_a_case_added_on_the_page_is_stored_redacted(admin_client, admin_membership):
    workspace = admin_membership.workspace

    admin_client.post(
        reverse("eval_case_add", args=[workspace.slug]),
        form_of(question=QUESTION, earlier=EARLIER),
    )

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER_REDACTED])


def test_a_case_edited_on_the_page_is_stored_redacted(admin_client, admin_membership):
    workspace = admin_membership.workspace
    case = EvalCase.objects.create(workspace=workspace, question="Hi", expected="escalate")

    admin_client.post(
        reverse("eval_case_edit", args=[workspace.slug, case.pk]),
        form_of(question=QUESTION, earlier=EARLIER),
    )

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER_REDACTED])


def test_the_policys_kinds_decide_what_is_redacted(admin_client, admin_membership):
    workspace = admin_membership.workspace
    PolicyVersionFactory(workspace=workspace, personal_data_kinds=["CARD"])

    admin_client.post(
        reverse("eval_case_add", args=[workspace.slug]),
        form_of(question=QUESTION, earlier=EARLIER),
    )

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER])


def jsonl() -> str:
    return json.dumps({"earlier_turns": [EARLIER], "question": QUESTION, "expected": "escalate"})


def test_cases_imported_on_the_page_are_stored_redacted(admin_client, admin_membership):
    workspace = admin_membership.workspace

    admin_client.post(
        reverse("eval_cases_import", args=[workspace.slug]),
        {"file": SimpleUploadedFile("cases.jsonl", jsonl().encode())},
    )

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER_REDACTED])


def test_cases_imported_by_the_command_are_stored_redacted(admin_membership, tmp_path):
    workspace = admin_membership.workspace
    file = tmp_path / "cases.jsonl"
    file.write_text(jsonl())

    call_command(
        "testcases", "import", "--workspace", workspace.slug, "--file", str(file), stdout=StringIO()
    )

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER_REDACTED])


def test_a_run_keeps_the_question_redacted_even_from_a_case_stored_in_clear(demo_help_center):
    workspace = demo_help_center.workspace
    # Written before cases were redacted, straight to the table.
    EvalCase.objects.create(workspace=workspace, question=QUESTION, expected="escalate")

    call_command("evaluate", "--workspace", workspace.slug, "--suite", "golden", stdout=StringIO())

    [result] = EvalRun.objects.get().results.all()
    assert result.question == QUESTION_REDACTED


def test_cases_and_results_stored_in_clear_before_are_redacted_by_the_command(
    admin_membership,
):
    workspace = admin_membership.workspace
    EvalCase.objects.create(
        workspace=workspace, earlier_turns=[EARLIER], question=QUESTION, expected="escalate"
    )
    run = EvalRun.objects.create(workspace=workspace, suite="golden", case_count=1)
    run.results.create(
        case_key="case-1", suite="golden", question=QUESTION, expected="escalate",
        behaviour="escalate", passed=True,
    )  # fmt: skip
    out = StringIO()

    call_command("testcases_redact", stdout=out)

    assert stored(workspace) == (QUESTION_REDACTED, [EARLIER_REDACTED])
    assert run.results.get().question == QUESTION_REDACTED
    assert out.getvalue().strip() == "Redacted 2 test cases and results that held personal data."
    call_command("testcases_redact", stdout=out)
    assert (
        out.getvalue()
        .strip()
        .endswith("Redacted 0 test cases and results that held personal data.")
    )
