"""The agent console's own records: canned replies, and where each agent last read."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from assistant.models.conversations import Conversation
from assistant.models.workspaces import Workspace


class CannedReply(models.Model):
    """A reply an agent inserts by typing `/shortcut` in the composer; admins keep them."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="canned_replies"
    )
    shortcut = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9-]*$",
                "Use lower-case letters, digits and dashes, such as refund-window.",
            )
        ],
    )
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "shortcut"], name="one_canned_reply_per_shortcut"
            )
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} · {self.workspace}"


class ReadMarker(models.Model):
    """Up to when an agent has read a conversation: later customer messages are unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_markers"
    )
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "conversation"], name="one_read_marker_per_agent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} read conversation {self.conversation_id} at {self.read_at}"
