"""Conversations, their messages and citations, feedback, and sealed personal data."""

import uuid

from django.conf import settings
from django.db import models

from assistant.models.policies import PolicyVersion
from assistant.models.workspaces import Workspace


class Conversation(models.Model):
    """One customer's chat with a workspace, found again by their visitor key or verified id."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    visitor_key = models.CharField(max_length=64)
    customer_id = models.CharField(
        max_length=200, blank=True, help_text="The host site's user id, when it signed it."
    )

    class State(models.TextChoices):
        BOT = "bot", "With the assistant"
        WAITING = "waiting", "Waiting for a person"
        AGENT = "agent", "With a person"
        RESOLVED = "resolved", "Resolved"

    started_at = models.DateTimeField(auto_now_add=True)
    # An admin trying a policy draft, or a check of one: never a customer's conversation.
    sandbox = models.BooleanField(default=False)
    # Changed only by assistant.handoffs.transitions, which records and pushes every transition.
    state = models.CharField(max_length=10, choices=State.choices, default=State.BOT)
    # An evaluation's conversation answers under the version it evaluates.
    pinned_policy = models.ForeignKey(
        "PolicyVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
        AGENT = "agent", "Agent"

    class Outcome(models.TextChoices):
        STREAMING = "streaming", "Being written"
        ANSWERED = "answered", "Answered from sources"
        DONT_KNOW = "dont_know", "Did not know"
        FAILED = "failed", "Could not answer"
        REFUSED = "refused", "Refused by a rail"
        HANDED_OFF = "handed_off", "Passed to a person"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Agent replies: who wrote it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    # Customer questions: what was searched, which differs from the text for a follow-up.
    search_query = models.TextField(blank=True)
    # Assistant answers.
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    backend = models.CharField(max_length=100, blank=True)
    generation_error = models.TextField(blank=True)
    retrieval_ms = models.PositiveIntegerField(null=True)
    first_token_ms = models.PositiveIntegerField(null=True)
    total_ms = models.PositiveIntegerField(null=True)
    # How likely the answer is right, from retrieval and grounding signals (0 to 1).
    confidence = models.FloatField(null=True)
    # The policy it was answered under (None: no version published yet, the defaults).
    # A version with answers cannot be deleted alone, only with its whole workspace.
    policy = models.ForeignKey(
        PolicyVersion, on_delete=models.RESTRICT, null=True, related_name="answers"
    )
    # Customer questions: the escalation rule they match, for the handoff to a person.
    escalation_rule = models.CharField(max_length=200, blank=True)
    # A customer question sent while another was being answered: stored at once (redacted),
    # answered in its turn, even by a server started after this one stopped.
    queued = models.BooleanField(default=False)
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
