"""Starting a company on Keel: its workspace, ready for its first admin."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent, Membership, PolicyVersion, Workspace
from assistant.people.invitations import InvitationSent, invitation_send, invitation_store
from knowledge.models import KnowledgeBase

SLUG_MAX = Workspace._meta.get_field("slug").max_length


@dataclass(frozen=True)
class WorkspaceStarted:
    workspace: Workspace
    invitation: InvitationSent


def workspace_create(
    *, name: str, admin_email: str, created_by: AbstractBaseUser | None = None
) -> WorkspaceStarted:
    """A workspace with a knowledge base, Keel's default policy published as version 1
    (its author nobody: checking it is the admin's first policy step), and an invitation
    for its first admin, e-mailed once all of it is committed. `created_by`: the
    superuser on the first-run page; None from the command line."""
    name = name.strip()
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name, slug=_slug_free(name))
        KnowledgeBase.objects.create(workspace=workspace, name="Help center", slug="help-center")
        PolicyVersion.objects.create(workspace=workspace, number=1)
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.WORKSPACE_CREATED,
            actor=created_by,
            detail={"name": name, "slug": workspace.slug},
        )
        invitation = invitation_store(
            workspace=workspace,
            email=admin_email,
            role=Membership.Role.ADMIN,
            invited_by=created_by,
        )
    return WorkspaceStarted(workspace=workspace, invitation=invitation_send(invitation))


def _slug_free(name: str) -> str:
    """The name's slug, numbered when another workspace has it ("acme", "acme-2", ...)."""
    base = slugify(name)[: SLUG_MAX - 4].strip("-") or "workspace"
    taken = set(Workspace.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug
