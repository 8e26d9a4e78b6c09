"""Changes an admin makes leave a trace in the audit log, each made through its page as the
admin makes it: widget settings, the identity secret, documents and test cases."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assistant.models import AuditEvent, EvalCase, Message
from knowledge.models import Document
from tests.support.factories import AnswerFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def workspace_url(name: str, workspace, **kwargs) -> str:
    return reverse(name, kwargs={"workspace_slug": workspace.slug, **kwargs})


def events(kind: AuditEvent.Kind) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("pk"))


def test_saving_the_widget_settings_is_audited_with_the_fields_changed(
    admin_client, admin_membership
):
    workspace = admin_membership.workspace
    admin_client.post(
        workspace_url("widget_settings", workspace),
        {"greeting": "Welcome to Harbour Bank.", "brand_colour": workspace.brand_colour},
    )

    [event] = events(AuditEvent.Kind.WIDGET_SETTINGS)
    assert (event.workspace, event.actor) == (workspace, admin_membership.user)
    assert "greeting" in event.detail["changed"]
    assert "brand_colour" not in event.detail["changed"]


def test_a_widget_settings_form_with_errors_is_not_audited(admin_client, admin_membership):
    workspace = admin_membership.workspace
    admin_client.post(workspace_url("widget_settings", workspace), {"domains": "not a domain"})
    assert events(AuditEvent.Kind.WIDGET_SETTINGS) == []


def test_rotating_the_identity_secret_is_audited_without_the_secret(admin_client, admin_membership):
    workspace = admin_membership.workspace
    admin_client.post(workspace_url("widget_identity_secret", workspace))

    [event] = events(AuditEvent.Kind.IDENTITY_SECRET)
    workspace.refresh_from_db()
    assert event.actor == admin_membership.user
    assert workspace.identity_secret not in json.dumps(event.detail)


def test_every_document_change_is_audited(admin_client, admin_membership, knowledge_base):
    def document_url(name: str, document: Document) -> str:
        return workspace_url(
            name,
            knowledge_base.workspace,
            knowledge_base_slug=knowledge_base.slug,
            document_id=document.pk,
        )

    def upload(text: bytes) -> None:
        admin_client.post(
            workspace_url(
                "document_upload", knowledge_base.workspace, knowledge_base_slug=knowledge_base.slug
            ),
            {"files": [SimpleUploadedFile("outages.md", text)]},
            headers={"HX-Request": "true"},
        )

    upload(b"# Power outages\n\nReport an outage by phone.\n")
    upload(b"")  # empty: refused, so no trace
    upload(b"# Power outages\n\nReport an outage online.\n")
    document = Document.objects.get(knowledge_base=knowledge_base)
    admin_client.post(document_url("document_archive", document))
    admin_client.post(document_url("document_archive", document), {"archived": "0"})
    admin_client.post(
        document_url("document_dates", document),
        {"effective_date": "2026-03-01", "valid_from": "", "valid_until": ""},
    )
    admin_client.post(document_url("document_dates", document), {"read_from_text": "1"})
    admin_client.post(document_url("document_delete", document))

    changes = events(AuditEvent.Kind.DOCUMENT)
    assert [event.detail["action"] for event in changes] == [
        "upload",
        "replace",
        "archive",
        "restore",
        "dates",
        "dates_from_text",
        "delete",
    ]
    assert {(event.actor, event.detail["document"]) for event in changes} == {
        (admin_membership.user, document.pk)
    }
    assert changes[4].detail["dates"]["effective_date"] == "2026-03-01"
    assert not Document.objects.filter(knowledge_base=knowledge_base).exists()


def test_test_case_writes_are_audited(admin_client, admin_membership):
    workspace = admin_membership.workspace
    fields = {"question": "Can I bring a folding bike on board?", "expected": "answer"}
    admin_client.post(workspace_url("eval_case_add", workspace), fields)
    case = EvalCase.objects.get()
    admin_client.post(
        workspace_url("eval_case_edit", workspace, case_id=case.pk),
        {**fields, "expected": "dont_know"},
    )
    lines = "\n".join(
        json.dumps({"question": question, "expected": "answer"})
        for question in ("How heavy may my cabin bag be?", "Can I change my seat?")
    )
    admin_client.post(
        workspace_url("eval_cases_import", workspace),
        {"file": SimpleUploadedFile("cases.jsonl", lines.encode())},
    )
    admin_client.post(workspace_url("eval_case_delete", workspace, case_id=case.pk))

    changes = events(AuditEvent.Kind.TEST_CASE)
    assert [(event.detail["action"], len(event.detail["cases"])) for event in changes] == [
        ("add", 1),
        ("edit", 1),
        ("import", 2),
        ("delete", 1),
    ]
    assert changes[0].detail["cases"] == [case.pk] == changes[3].detail["cases"]
    assert all(event.actor == admin_membership.user for event in changes)
    assert "folding bike" not in json.dumps([event.detail for event in changes])
    assert EvalCase.objects.count() == 2


def test_a_console_turn_saved_as_a_test_case_is_audited(admin_client, admin_membership):
    workspace = admin_membership.workspace
    question = MessageFactory(
        conversation=ConversationFactory(workspace=workspace), text="Is my flight delayed?"
    )
    AnswerFactory(conversation=question.conversation, outcome=Message.Outcome.DONT_KNOW)

    admin_client.post(
        reverse("console_save_case", args=[workspace.slug, question.conversation_id, question.pk])
    )

    [event] = events(AuditEvent.Kind.TEST_CASE)
    assert event.detail == {
        "action": "add",
        "cases": [EvalCase.objects.get().pk],
        "conversation": question.conversation_id,
    }
    assert event.actor == admin_membership.user


def test_a_test_case_import_with_a_bad_line_is_not_audited(admin_client, admin_membership):
    workspace = admin_membership.workspace
    admin_client.post(
        workspace_url("eval_cases_import", workspace),
        {"file": SimpleUploadedFile("cases.jsonl", b'{"question": "Seat?", "expected": "x"}')},
    )
    assert events(AuditEvent.Kind.TEST_CASE) == [] and not EvalCase.objects.exists()
