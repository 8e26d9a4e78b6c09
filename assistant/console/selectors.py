"""Reads for the agent console beside its list (`conversations.console_rows`): the
customer's other conversations, and canned replies."""

from django.db.models import QuerySet

from assistant.models import CannedReply, Conversation, Workspace


def customer_other_conversations(*, conversation: Conversation) -> QuerySet[Conversation]:
    """The same customer's other conversations with the workspace, latest first: by the
    host's signed id if it gave one, else by the browser's visitor key."""
    others = Conversation.objects.filter(
        workspace_id=conversation.workspace_id, sandbox=False
    ).exclude(pk=conversation.pk)
    if conversation.customer_id:
        others = others.filter(customer_id=conversation.customer_id)
    else:
        others = others.filter(visitor_key=conversation.visitor_key, customer_id="")
    return others.order_by("-last_message_at")[:10]


def canned_replies(*, workspace: Workspace) -> QuerySet[CannedReply]:
    return CannedReply.objects.filter(workspace=workspace)


def canned_reply_in_workspace(*, workspace: Workspace, canned_reply_id: int) -> CannedReply | None:
    return canned_replies(workspace=workspace).filter(pk=canned_reply_id).first()


def canned_replies_matching(*, workspace: Workspace, prefix: str) -> QuerySet[CannedReply]:
    """For the composer's `/` list: shortcuts that start with what was typed after `/`."""
    return canned_replies(workspace=workspace).filter(shortcut__startswith=prefix.lower())[:8]
