"""Tenancy: a workspace (one company and its widget) and its members."""

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models


def public_key_new() -> str:
    """The key a company pastes into its site; public by design, so it grants nothing private."""
    return "pk_" + secrets.token_urlsafe(18)


def identity_secret_new() -> str:
    """The HMAC key a host site signs its customers' ids with; shown on staff pages only."""
    return secrets.token_urlsafe(32)


class Workspace(models.Model):
    """A tenant: one company or brand, with its own knowledge, staff and conversations."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The chat widget.
    public_key = models.CharField(max_length=40, unique=True, default=public_key_new)
    identity_secret = models.CharField(max_length=64, default=identity_secret_new)
    allowed_origins = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Sites that may embed the widget, e.g. https://www.example.com",
    )
    # What answers may send customers to (`assistant.rails.contacts`): the company's web
    # domains (their subdomains too) and its e-mail addresses and phone numbers.
    domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    contact_details = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    # The name in the policy in force, kept here for the widget's templates.
    assistant_name = models.CharField(max_length=60, default="Assistant")
    greeting = models.CharField(
        max_length=300, default="Hi! Ask me anything about our products and services."
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#2f6b3a",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #2f6b3a.")],
    )
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    # Set by admins, offered as buttons when the chat opens, until the first message.
    suggested_questions = ArrayField(models.CharField(max_length=120), default=list, blank=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "workspace"], name="one_membership_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.workspace} · {self.role}"


# Each is a placeholder's kind ("[CARD_EXPIRY_1]", assistant/rails/personal_data.py); all
# are on in a new policy.
