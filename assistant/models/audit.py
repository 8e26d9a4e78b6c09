"""The audit trail: every decision and every staff change."""

from django.conf import settings
from django.db import models

from assistant.models.conversations import Conversation, Message
from assistant.models.workspaces import Workspace


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
        REFUSED_TOPIC = "refused_topic", "Question on a refused topic"
        OUTPUT = "output", "Answer changed by an output rail"
        ESCALATION_FLAG = "escalation_flag", "Escalation rule matched"
        POLICY_DRAFT = "policy_draft", "Policy draft saved"
        POLICY_CHECK = "policy_check", "Policy draft checked"
        POLICY_PUBLISH = "policy_publish", "Policy published"
        POLICY_OVERRIDE = "policy_override", "Failing checks overridden"
        POLICY_RESTORE = "policy_restore", "Policy version restored"
        HANDOFF = "handoff", "Conversation state changed"
        VAULT_READ = "vault_read", "Personal data read by an agent"
        GAP_ARTICLE = "gap_article", "Article written for a content gap"
        WEBSITE_ADDED = "website_added", "Website source added"
        WEBSITE_REMOVED = "website_removed", "Website source removed"
        WEBSITE_SYNCED = "website_synced", "Website source synced"
        TEST_CASE = "test_case", "Test cases changed"
        DOCUMENT = "document", "Document changed"
        KNOWLEDGE_BASE = "knowledge_base", "Knowledge base changed"
        WIDGET_SETTINGS = "widget_settings", "Widget settings changed"
        IDENTITY_SECRET = "identity_secret", "Identity secret rotated"
        TICKET_MAIL = "ticket_mail", "Ticket e-mail sent or received"
        WORKSPACE_CREATED = "workspace_created", "Workspace created"
        INVITATION = "invitation", "Invitation changed"
        MEMBER = "member", "Member changed"

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
