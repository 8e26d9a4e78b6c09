"""Invitations: how a person joins a workspace, by a signed link sent to their e-mail."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from assistant.models.workspaces import Membership, Workspace


class Invitation(models.Model):
    """An admin's invitation of `email` into a workspace with a role; open until accepted,
    revoked or expired. The link carries a signed token (`assistant.people.invitations`),
    so the row's id alone opens nothing."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # stored lower-case
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last time its link was sent: a resent invitation lasts from then.
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.workspace} · {self.role}"

    @property
    def expires_at(self):
        return self.sent_at + timedelta(days=settings.KEEL_INVITATION_DAYS)

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()
