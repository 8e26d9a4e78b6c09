"""Writes for a workspace's own settings, each audited."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent, Workspace, identity_secret_new
from assistant.widget.forms import WidgetSettingsForm


def widget_settings_save(*, form: WidgetSettingsForm, actor: AbstractBaseUser) -> Workspace:
    """The widget's look and where it may appear, from a valid settings form; the audit
    names the fields changed (their values are on the page)."""
    with transaction.atomic():
        workspace = form.save()
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.WIDGET_SETTINGS,
            actor=actor,
            detail={"changed": sorted(form.changed_data)},
        )
    return workspace


def identity_secret_rotate(*, workspace: Workspace, actor: AbstractBaseUser) -> Workspace:
    """A new signing secret: identities signed with the old one stop being trusted at once.
    The audit records who rotated it, never the secret."""
    workspace.identity_secret = identity_secret_new()
    with transaction.atomic():
        workspace.save(update_fields=["identity_secret"])
        workspace_audit(
            workspace_id=workspace.pk, kind=AuditEvent.Kind.IDENTITY_SECRET, actor=actor, detail={}
        )
    return workspace
