"""Admins browse, filter and export their workspace's audit trail; no one else does."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.models import AuditEvent, Membership
from tests.support.factories import (
    AnswerFactory,
    AuditEventFactory,
    ConversationFactory,
    DocumentFactory,
    MembershipFactory,
    MessageFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def audit_url(workspace) -> str:
    return reverse("audit_log", kwargs={"workspace_slug": workspace.slug})


@pytest.fixture
def trail(admin_membership):
    workspace = admin_membership.workspace
    old = AuditEvent.objects.create(
        workspace=workspace, kind=AuditEvent.Kind.REDACTION, detail={"placeholders": ["[CARD_1]"]}
    )
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    AuditEvent.objects.create(
        workspace=workspace,
        kind=AuditEvent.Kind.RELEASE,
        actor=admin_membership.user,
        detail={"chunk_id": 7},
    )
    AuditEvent.objects.create(
        workspace=WorkspaceFactory(), kind=AuditEvent.Kind.INJECTION, detail={"score": 0.9}
    )
    return workspace


def shown(page: str) -> set[str]:
    """The kinds of the events in the table (the filter's options aside)."""
    return {kind.label for kind in AuditEvent.Kind if f"<td>{kind.label}</td>" in page}


def test_admin_browses_and_filters_the_trail_of_their_workspace_only(admin_client, trail):
    page = admin_client.get(audit_url(trail)).content.decode()
    # Not the injection event: it belongs to another workspace.
    assert shown(page) == {"Personal data redacted", "Quarantined passage released"}

    recent = admin_client.get(
        audit_url(trail),
        {"since": (timezone.now() - timedelta(days=1)).date().isoformat()},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert shown(recent) == {"Quarantined passage released"}
    by_kind = admin_client.get(audit_url(trail), {"kind": "redaction"}).content.decode()
    assert shown(by_kind) == {"Personal data redacted"}


def test_trail_exports_as_csv_and_json(admin_client, trail, admin_membership):
    rows = list(
        csv.DictReader(
            io.StringIO(admin_client.get(audit_url(trail), {"export": "csv"}).content.decode())
        )
    )
    assert [row["kind"] for row in rows] == ["release", "redaction"]
    assert rows[0]["actor"] == admin_membership.user.get_username()

    events = admin_client.get(audit_url(trail), {"export": "json", "kind": "release"}).json()[
        "events"
    ]
    assert [(e["kind"], e["detail"]) for e in events] == [("release", {"chunk_id": 7})]


def test_the_trail_reads_as_sentences_linked_to_what_they_are_about(
    admin_client, admin_membership, knowledge_base
):
    """A bike shop's trail: each event a sentence and a link (the answer, the customer's
    conversation, the document), never the raw detail; the sandbox's events (checks,
    evaluation runs, trials) hidden until asked for."""
    workspace = admin_membership.workspace
    customer = ConversationFactory(workspace=workspace)
    answer = AnswerFactory(conversation=customer)
    document = DocumentFactory(knowledge_base=knowledge_base, title="Frame warranty")
    AuditEventFactory(
        workspace=workspace,
        conversation=customer,
        message=answer,
        kind=AuditEvent.Kind.GROUNDING,
        detail={"sentence": "Frames are covered for life.", "rails": [{"rail": "grounding"}]},
    )
    AuditEventFactory(
        workspace=workspace,
        conversation=customer,
        actor=admin_membership.user,
        kind=AuditEvent.Kind.HANDOFF,
        detail={"from": "waiting", "to": "agent"},
    )
    AuditEventFactory(
        workspace=workspace,
        actor=admin_membership.user,
        kind=AuditEvent.Kind.DOCUMENT,
        detail={"action": "archive", "document": document.pk, "source": "warranty.md"},
    )
    trial = MessageFactory(conversation=ConversationFactory(workspace=workspace, sandbox=True))
    AuditEventFactory(
        workspace=workspace,
        conversation=trial.conversation,
        message=trial,
        kind=AuditEvent.Kind.REFUSED_TOPIC,
        detail={"rule": "Medical advice", "score": 0.71},
    )

    page = admin_client.get(audit_url(workspace)).content.decode()
    assert "A sentence its sources did not support was removed from an answer." in page
    assert reverse("answer", args=[workspace.slug, answer.pk]) in page
    assert "The conversation went from “Waiting for a person” to “With a person”." in page
    assert reverse("console_conversation", args=[workspace.slug, customer.pk]) in page
    assert "Document “warranty.md”: archive." in page
    assert reverse("document", args=[workspace.slug, knowledge_base.slug, document.pk]) in page
    assert "Frames are covered for life" not in page and "{&#x27;" not in page
    assert "Medical advice" not in page

    with_sandbox = admin_client.get(audit_url(workspace), {"include_sandbox": "on"})
    page = with_sandbox.content.decode()
    assert "A question was refused as “Medical advice”." in page
    assert f"/conversations/{trial.conversation_id}/" not in page


def test_agents_and_strangers_cannot_read_the_trail(client, trail):
    agent = MembershipFactory(workspace=trail, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(audit_url(trail)).status_code == 403
    client.force_login(MembershipFactory().user)
    assert client.get(audit_url(trail), {"export": "csv"}).status_code == 404
