"""Admins browse, filter and export their workspace's audit trail; no one else does."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.models import AuditEvent, Membership
from tests.support.factories import MembershipFactory, WorkspaceFactory

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


def test_agents_and_strangers_cannot_read_the_trail(client, trail):
    agent = MembershipFactory(workspace=trail, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(audit_url(trail)).status_code == 403
    client.force_login(MembershipFactory().user)
    assert client.get(audit_url(trail), {"export": "csv"}).status_code == 404
