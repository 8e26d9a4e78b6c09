"""Invitations: an admin invites a person by e-mail; the signed link lets them join.

The link's token is the invitation's id signed with a timestamp (Django's signing), so it
cannot be guessed and stops working after KEEL_INVITATION_DAYS; accepting, revoking or
removing the row stops it at once. Every change is audited.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent, Invitation, Membership, Workspace

logger = logging.getLogger(__name__)

TOKEN_SALT = "keel.people.invitation"


class InvitationRefused(Exception):
    """The invitation cannot be made or used; the message says why, for the person."""


@dataclass(frozen=True)
class InvitationSent:
    invitation: Invitation
    link: str
    emailed: bool  # False when the mail server refused it: the admin passes the link on


def invitation_create(
    *, workspace: Workspace, email: str, role: str, invited_by: AbstractBaseUser | None
) -> InvitationSent:
    """An open invitation of `email`, e-mailed once it is committed."""
    with transaction.atomic():
        invitation = invitation_store(
            workspace=workspace, email=email, role=role, invited_by=invited_by
        )
    return invitation_send(invitation)


def invitation_store(
    *, workspace: Workspace, email: str, role: str, invited_by: AbstractBaseUser | None
) -> Invitation:
    """Call inside a transaction, then `invitation_send` after it commits. Refused for a
    member or an address already invited (the constraint settles two admins at once)."""
    email = email_normalized(email)
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise InvitationRefused(f"{email} is already a member of {workspace.name}.")
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                workspace=workspace, email=email, role=role, invited_by=invited_by
            )
    except IntegrityError:
        raise InvitationRefused(
            f"{email} is already invited: resend or revoke that invitation in the list above."
        ) from None
    workspace_audit(
        workspace_id=workspace.pk,
        kind=AuditEvent.Kind.INVITATION,
        actor=invited_by,
        detail={"action": "sent", "invitation": invitation.pk, "email": email, "role": role},
    )
    return invitation


def invitation_resend(*, invitation: Invitation, actor: AbstractBaseUser) -> InvitationSent:
    """A fresh link for an open invitation; it lasts KEEL_INVITATION_DAYS from now."""
    invitation = _open_stamped(invitation, field="sent_at", action="resent", actor=actor)
    return invitation_send(invitation)


def invitation_revoke(*, invitation: Invitation, actor: AbstractBaseUser) -> None:
    """Its link stops working; the row stays, for the record."""
    _open_stamped(invitation, field="revoked_at", action="revoked", actor=actor)


def _open_stamped(
    invitation: Invitation, *, field: str, action: str, actor: AbstractBaseUser
) -> Invitation:
    """The open invitation's `field` set to now, audited as `action`."""
    with transaction.atomic():
        invitation = _open_locked(invitation)
        setattr(invitation, field, timezone.now())
        invitation.save(update_fields=[field])
        workspace_audit(
            workspace_id=invitation.workspace_id,
            kind=AuditEvent.Kind.INVITATION,
            actor=actor,
            detail={"action": action, "invitation": invitation.pk, "email": invitation.email},
        )
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link's token names, or InvitationRefused saying why not."""
    try:
        invitation_id = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(
            token, max_age=timedelta(days=settings.KEEL_INVITATION_DAYS)
        )
    except signing.SignatureExpired:
        raise InvitationRefused(
            "This invitation has expired. Ask the admin who invited you to send it again."
        ) from None
    except signing.BadSignature:
        raise InvitationRefused(
            "This invitation link is not valid. Check that you copied all of it."
        ) from None
    invitation = Invitation.objects.select_related("workspace").filter(pk=invitation_id).first()
    if invitation is None or invitation.revoked_at:
        raise InvitationRefused("This invitation was withdrawn. Ask a workspace admin.")
    if invitation.accepted_at:
        raise InvitationRefused("This invitation was already used. Log in to Keel instead.")
    return invitation


def invitation_accept(
    *,
    invitation: Invitation,
    user: AbstractBaseUser | None = None,
    name: str = "",
    password: str = "",
) -> Membership:
    """The invited person joins: a signed-in `user` whose e-mail it was sent to, or a new
    login (`name`, `password`, already validated) with the invited address as username.
    One acceptance only, even when two tabs submit at once."""
    with transaction.atomic():
        invitation = _open_locked(invitation)
        if user is None:
            if login_exists(invitation.email):
                raise InvitationRefused(
                    "You already have a Keel login: log in, then open this link again."
                )
            user = get_user_model().objects.create_user(
                username=invitation.email,
                email=invitation.email,
                password=password,
                first_name=name,
            )
        elif email_normalized(user.email) != invitation.email:
            raise InvitationRefused(
                "This invitation was sent to another e-mail address than your login's. "
                "Log out, then open the link again."
            )
        membership, _ = Membership.objects.get_or_create(
            user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        workspace_audit(
            workspace_id=invitation.workspace_id,
            kind=AuditEvent.Kind.MEMBER,
            actor=user,
            detail={
                "action": "joined",
                "invitation": invitation.pk,
                "user": user.pk,
                "email": user.email,
                "role": membership.role,
            },
        )
    return membership


def email_normalized(email: str) -> str:
    return email.strip().lower()


def invitation_link(invitation: Invitation) -> str:
    token = signing.TimestampSigner(salt=TOKEN_SALT).sign_object(invitation.pk)
    return settings.KEEL_PUBLIC_URL + reverse("invitation_accept", args=[token])


def login_exists(email: str) -> bool:
    """Whether a Keel login has this address (as its username or its e-mail)."""
    users = get_user_model().objects
    return (
        users.filter(username__iexact=email).exists() or users.filter(email__iexact=email).exists()
    )


def _open_locked(invitation: Invitation) -> Invitation:
    """Call inside a transaction: the invitation's row, locked, if it is still open."""
    locked = (
        Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
    )
    if locked.accepted_at or locked.revoked_at:
        raise InvitationRefused("This invitation was already used or withdrawn.")
    return locked


def invitation_send(invitation: Invitation) -> InvitationSent:
    """E-mails the link; call it after the invitation is committed. A mail server's
    refusal is reported to the admin, never lost in a server error."""
    link = invitation_link(invitation)
    context = {"invitation": invitation, "link": link, "days": settings.KEEL_INVITATION_DAYS}
    try:
        send_mail(
            subject=f"You are invited to {invitation.workspace.name} on Keel",
            message=render_to_string("people/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except OSError:  # smtplib's errors are OSErrors, as are refused connections
        logger.exception("invitation e-mail not sent", extra={"invitation": invitation.pk})
        return InvitationSent(invitation=invitation, link=link, emailed=False)
    return InvitationSent(invitation=invitation, link=link, emailed=True)
