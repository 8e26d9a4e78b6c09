"""Handoffs to a person, agents' notes, and who is online in the console."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from assistant.models.conversations import Conversation
from assistant.models.workspaces import Workspace


class Handoff(models.Model):
    """One passage of a conversation to a person: why, what they were told, who took it."""

    class Reason(models.TextChoices):
        ASKED = "asked", "Asked for a person"
        LOW_CONFIDENCE = "low_confidence", "The assistant was not sure"
        LOOP = "loop", "Same question after unhelpful answers"
        ANGRY = "angry", "The customer is upset"
        POLICY_RULE = "policy_rule", "A policy rule"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reason_detail = models.CharField(max_length=200, blank=True)  # the rule's label, ...
    summary = models.TextField()
    suggested_reply = models.TextField(blank=True)
    confidence = models.FloatField(null=True)  # of the last answer before it
    language = models.CharField(max_length=10, blank=True)
    customer_email = models.EmailField(blank=True)  # no agent online: the ticket's address
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True)
    first_reply_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)  # resolved or handed back
    csat = models.PositiveSmallIntegerField(
        null=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        indexes = [models.Index(fields=["closed_at", "created_at"])]

    def __str__(self) -> str:
        return f"handoff {self.pk} of conversation {self.conversation_id}"


class AgentNote(models.Model):
    """An internal note on a conversation: staff only, never shown to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on conversation {self.conversation_id}"


class AgentPresence(models.Model):
    """An open console socket: agents with one are online."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} online in {self.workspace}"
