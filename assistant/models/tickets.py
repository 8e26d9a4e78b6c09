"""E-mail tickets: the mails sent and received on a conversation, and agents' choices of
notifications for conversations left waiting."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from assistant.models.conversations import Conversation, Message
from assistant.models.handoffs import Handoff
from assistant.models.workspaces import Membership


class TicketMail(models.Model):
    """One e-mail of a ticket's thread. Its Message-ID threads the next (In-Reply-To,
    References); an outbound one is sent by the worker and records how that went."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "Ticket acknowledged"
        REPLY = "reply", "Agent's reply"
        INBOUND = "inbound", "Customer's reply"
        BOUNCE = "bounce", "Bounce"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="ticket_mails"
    )
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    address = models.EmailField(blank=True)  # the customer's: to, or from
    internet_message_id = models.CharField(max_length=998, blank=True)  # the Message-ID header
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} mail of conversation {self.conversation_id}"


class NotificationPreference(models.Model):
    """What an agent wants to hear of a conversation left waiting while nobody is online."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="notification_preference"
    )
    by_email = models.BooleanField(default=False)
    # Fired by the console page itself, in a background tab: the agent is online but not looking.
    in_browser = models.BooleanField(default=False)
    after_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )

    def __str__(self) -> str:
        return f"notifications of {self.membership}"


class WaitNotification(models.Model):
    """An agent told of a waiting handoff: each handoff notifies each agent once."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["handoff", "user"], name="one_notification_per_agent")
        ]

    def __str__(self) -> str:
        return f"{self.user} told of {self.handoff}"
