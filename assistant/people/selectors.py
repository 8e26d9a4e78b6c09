"""Reads for the people pages, the workspace switcher and the setup checklist."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import reverse

from assistant.models import Conversation, Invitation, Membership, PolicyCheck, Workspace
from knowledge.models import Document, KnowledgeBase, WebsiteSource

# The session's record of the workspace a person last switched to: `/app/` opens it.
WORKSPACE_SESSION_KEY = "keel_workspace"


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )


def invitations_open(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Neither accepted nor revoked; expired ones included, so they can be resent."""
    return Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("-sent_at")


def memberships_of(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    """The workspaces a person works in, by name: the workspace switcher."""
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace__pk")
    )


def membership_current(*, user: AbstractBaseUser, workspace_slug: str) -> Membership | None:
    """The workspace the person last switched to (`workspace_slug`), if still theirs, else
    their first."""
    memberships = Membership.objects.select_related("workspace").filter(user=user)
    return (
        memberships.filter(workspace__slug=workspace_slug).first()
        or memberships.order_by("pk").first()
    )


@dataclass(frozen=True)
class SetupStep:
    title: str
    done: bool
    url: str
    how: str


def setup_steps(*, workspace: Workspace) -> list[SetupStep]:
    """A new workspace's first steps, each done or not from what exists."""
    knowledge_bases = KnowledgeBase.objects.filter(workspace=workspace)
    slug = workspace.slug
    return [
        SetupStep(
            title="Add knowledge",
            done=Document.objects.filter(
                knowledge_base__in=knowledge_bases, status=Document.Status.READY
            ).exists()
            or WebsiteSource.objects.filter(knowledge_base__in=knowledge_bases).exists(),
            url=reverse("knowledge_bases", args=[slug]),
            how="Upload your help articles, or add your help center's website, to "
            + ", ".join(knowledge_bases.order_by("name").values_list("name", flat=True))
            + ".",
        ),
        SetupStep(
            title="Check the policy",
            done=PolicyCheck.objects.filter(policy__workspace=workspace).exists()
            or workspace.policy_versions.filter(
                number__isnull=False, author__isnull=False
            ).exists(),
            url=reverse("policy", args=[slug]),
            how="Read what the assistant may say, change it to fit your company, run the "
            "checks and publish it.",
        ),
        SetupStep(
            title="Try the sandbox",
            # An admin's sandbox chat (`answering.sandbox.sandbox_start`), not a check's.
            done=Conversation.objects.filter(
                workspace=workspace, sandbox=True, visitor_key__startswith="staff-"
            ).exists(),
            url=reverse("policy", args=[slug]),
            how="Ask the assistant your customers' questions in the sandbox, on the policy page.",
        ),
        SetupStep(
            title="Paste the snippet",
            done=bool(workspace.allowed_origins),
            url=reverse("widget_settings", args=[slug]),
            how="Name the sites that may show the chat, and paste its tag into their pages.",
        ),
    ]


def setup_undone(*, workspace: Workspace) -> bool:
    return not all(step.done for step in setup_steps(workspace=workspace))


def landing_url(*, membership: Membership) -> str:
    """Where a person lands in a workspace: the console, or for an admin the setup
    checklist while it has steps undone."""
    workspace = membership.workspace
    if membership.role == Membership.Role.ADMIN and setup_undone(workspace=workspace):
        return reverse("setup", args=[workspace.slug])
    return reverse("console", args=[workspace.slug])
