import secrets
import uuid

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


class Conversation(models.Model):
    """One customer's chat with a workspace, found again by their visitor key or verified id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    visitor_key = models.CharField(max_length=64)
    customer_id = models.CharField(
        max_length=200, blank=True, help_text="The host site's user id, when it signed it."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "visitor_key", "-last_message_at"]),
            models.Index(fields=["workspace", "customer_id", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} · {self.workspace}"


class Message(models.Model):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ASSISTANT = "assistant", "Assistant"

    class Outcome(models.TextChoices):
        STREAMING = "streaming", "Being written"
        ANSWERED = "answered", "Answered from sources"
        DONT_KNOW = "dont_know", "Did not know"
        FAILED = "failed", "Could not answer"
        REFUSED = "refused", "Refused by a rail"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Customer questions: what was searched, which differs from the text for a follow-up.
    search_query = models.TextField(blank=True)
    # Assistant answers.
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    backend = models.CharField(max_length=100, blank=True)
    generation_error = models.TextField(blank=True)
    retrieval_ms = models.PositiveIntegerField(null=True)
    first_token_ms = models.PositiveIntegerField(null=True)
    total_ms = models.PositiveIntegerField(null=True)
    # Why the answer is what it is: passages retrieved, rail verdicts, generation, timings.
    trace = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Citation(models.Model):
    """A numbered source of an answer, kept as it was cited even if the document changes."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="citations")
    marker = models.PositiveSmallIntegerField()
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chunk = models.ForeignKey(
        "knowledge.Chunk", on_delete=models.SET_NULL, null=True, related_name="citations"
    )
    document = models.ForeignKey(
        "knowledge.Document", on_delete=models.SET_NULL, null=True, related_name="citations"
    )
    document_title = models.CharField(max_length=500)
    document_url = models.URLField(max_length=1000, blank=True)
    heading = models.TextField(blank=True)
    page = models.PositiveIntegerField(null=True)
    quote = models.TextField()
    score = models.FloatField()

    class Meta:
        ordering = ["marker"]
        constraints = [
            models.UniqueConstraint(fields=["message", "marker"], name="one_citation_per_marker")
        ]

    def __str__(self) -> str:
        return f"[{self.marker}] {self.document_title}"


class Feedback(models.Model):
    class Rating(models.TextChoices):
        UP = "up", "Helpful"
        DOWN = "down", "Not helpful"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.rating} on message {self.message_id}"


class VaultEntry(models.Model):
    """A piece of personal data a customer wrote, sealed; the transcript holds its placeholder.

    Readable only by staff handling the conversation, and deleted after `expires_at`.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="vault_entries")
    placeholder = models.CharField(max_length=40)
    kind = models.CharField(max_length=20)
    sealed_value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "placeholder"], name="one_vault_entry_per_placeholder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.placeholder} in message {self.message_id}"


class AuditEvent(models.Model):
    """One decision or change, for the record: what happened, to what, by whom, and why.

    `detail` never holds raw personal data: placeholders and kinds only.
    """

    class Kind(models.TextChoices):
        REDACTION = "redaction", "Personal data redacted"
        INJECTION = "injection", "Prompt injection detected"
        GROUNDING = "grounding", "Unsupported sentences removed"
        QUARANTINE = "quarantine", "Document passage quarantined"
        RELEASE = "release", "Quarantined passage released"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} · {self.workspace} · {self.created_at:%Y-%m-%d %H:%M}"
