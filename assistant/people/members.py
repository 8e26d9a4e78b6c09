"""An admin changes a member's role or removes them; a workspace always keeps an admin."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent, Membership


class MemberChangeRefused(Exception):
    """The change cannot be made (it would leave no admin); the message says why."""


def member_role_change(*, membership: Membership, role: str, actor: AbstractBaseUser) -> Membership:
    with transaction.atomic():
        membership = _locked(membership)
        if membership.role == role:
            return membership
        _last_admin_kept(membership, doing="make the only admin an agent")
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        workspace_audit(
            workspace_id=membership.workspace_id,
            kind=AuditEvent.Kind.MEMBER,
            actor=actor,
            detail={
                "action": "role_changed",
                "user": membership.user_id,
                "email": membership.user.email,
                "from": before,
                "to": role,
            },
        )
    return membership


def member_remove(*, membership: Membership, actor: AbstractBaseUser) -> None:
    """The person leaves the workspace; their login stays (other workspaces may have them)."""
    with transaction.atomic():
        membership = _locked(membership)
        _last_admin_kept(membership, doing="remove the only admin")
        membership.delete()
        workspace_audit(
            workspace_id=membership.workspace_id,
            kind=AuditEvent.Kind.MEMBER,
            actor=actor,
            detail={
                "action": "removed",
                "user": membership.user_id,
                "email": membership.user.email,
                "role": membership.role,
            },
        )


def member_password_reset(*, user: AbstractBaseUser, password: str) -> None:
    """A password set again through the e-mailed link, noted in each of the person's
    workspaces in the same transaction: their admins see who regained access to a login
    and when."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        for workspace_id in Membership.objects.filter(user=user).values_list(
            "workspace_id", flat=True
        ):
            workspace_audit(
                workspace_id=workspace_id,
                kind=AuditEvent.Kind.MEMBER,
                actor=user,
                detail={"action": "password_reset", "user": user.pk, "email": user.email},
            )


def _locked(membership: Membership) -> Membership:
    """Call inside a transaction: the workspace's memberships take turns until it commits,
    so two admins demoting each other at once cannot leave it with none."""
    rows = Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id)
    locked = next((row for row in rows.order_by("pk") if row.pk == membership.pk), None)
    if locked is None:
        raise MemberChangeRefused("This person is no longer a member of the workspace.")
    return locked


def _last_admin_kept(membership: Membership, *, doing: str) -> None:
    if membership.role != Membership.Role.ADMIN:
        return
    admins = Membership.objects.filter(
        workspace_id=membership.workspace_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise MemberChangeRefused(
            f"You cannot {doing}: a workspace needs an admin. Make another member an admin first."
        )
