"""Pushes to open sockets: rendered partials, sent after the data commits.

Four kinds of channel group: a conversation's customer sockets, the console sockets of
the agents watching that conversation, every console socket of a workspace (the queue),
and one person's console sockets of a workspace (closed when their membership goes or its
role changes). The same partial templates render the pages over HTTP and these pushes.

A push is a courtesy to whoever is looking: the data is stored before it leaves. When
Redis (the channel layer of several server processes) cannot be reached, the push is
logged and dropped, and the write that caused it stands; a socket that reconnects reads
the stored history.
"""

import logging
from collections.abc import Callable

from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.html import escape
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from assistant.common.threads import ServerStopping, on_event_loop
from assistant.conversations import partials
from assistant.conversations.selectors import messages_for_display
from assistant.models import Conversation, Membership, Message

logger = logging.getLogger(__name__)

# What the channel layer raises while Redis is down or out of reach.
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def conversation_group(conversation_id: int) -> str:
    """The customer's sockets; nothing for staff eyes only is ever sent here."""
    return f"conversation-{conversation_id}"


def agents_group(conversation_id: int) -> str:
    return f"agents-{conversation_id}"


def console_group(workspace_id: int) -> str:
    return f"console-{workspace_id}"


def staff_group(*, user_id: int, workspace_id: int) -> str:
    """One person's console sockets of one workspace."""
    return f"staff-{user_id}-{workspace_id}"


async def _push(conversation_id: int, html: str) -> None:
    await _group_push(conversation_group(conversation_id), html)


async def _group_push(group: str, html: str) -> None:
    await _group_send(group, {"type": "chat.push", "html": html})


async def _group_send(group: str, event: dict) -> None:
    try:
        await get_channel_layer().group_send(group, event)
    except REDIS_UNREACHABLE as error:
        logger.warning("Push to %s not delivered, Redis unreachable: %s", group, error)


def _group_push_after_commit(*, group: str, render: Callable[[], str]) -> None:
    # Robust: a push that fails (the database gone before it rendered) is logged, and never
    # undoes or hides the write it follows.
    transaction.on_commit(lambda: _group_push_from_thread(group, render()), robust=True)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(*, instance: Membership, created: bool = False, **kwargs) -> None:
    """A member removed, or their role changed (by a service or Django's admin): their
    console sockets close after the commit, so nothing more reaches them; the page, loaded
    again, shows what their role allows now. A new membership closes nothing."""
    if created:
        return
    group = staff_group(user_id=instance.user_id, workspace_id=instance.workspace_id)
    transaction.on_commit(
        lambda: _group_send_from_thread(group, {"type": "access.changed"}), robust=True
    )


def _push_after_commit(*, conversation_id: int, render: Callable[[], str]) -> None:
    """Renders and pushes once the transaction commits, so the page shows stored data."""
    _group_push_after_commit(group=conversation_group(conversation_id), render=render)


def _group_push_from_thread(group: str, html: str) -> None:
    _group_send_from_thread(group, {"type": "chat.push", "html": html})


def _group_send_from_thread(group: str, event: dict) -> None:
    try:
        on_event_loop(_group_send)(group, event)
    except ServerStopping:
        # Its sockets are closing with the server; they read the stored history on reconnecting.
        logger.warning("Push to %s dropped: the server is stopping", group)


def notice_after_commit(*, conversation_id: int, text: str) -> None:
    """A line under the conversation for its customer, such as what was removed and why."""
    _push_after_commit(
        conversation_id=conversation_id,
        render=lambda: render_to_string("widget/_notice.html", {"text": text}),
    )


def messages_added(*, messages: list[Message]) -> None:
    """New messages, in the order given, read for display in one query."""
    shown = messages_for_display().in_bulk([message.pk for message in messages])
    for message in messages:
        _message_pushes(message=shown[message.pk], swap="append")
    # The consoles' lists (unread counts, what the customer needs) follow the queue's push.
    conversations = {message.conversation for message in shown.values()}
    for workspace_id in {c.workspace_id for c in conversations if not c.sandbox}:
        queue_changed_after_commit(workspace_id=workspace_id)


def message_changed(*, message: Message) -> None:
    _message_pushes(message=messages_for_display().get(pk=message.pk), swap="replace")


def message_removed(*, message: Message) -> None:
    """A message taken off the screen (a queued question that moved down to its answer)."""
    _message_pushes(message=message, swap="remove")


def _message_pushes(*, message: Message, swap: str) -> None:
    """Rendered now, inside the transaction that wrote the message (it sees the write), and
    pushed after the commit: a database lost in between cannot leave an answer unshown.
    `message` as read for display; `swap` is "append" for a new message, "replace" for an
    update of one on screen, "remove" to take it off."""
    shown = {"message": message, "swap": swap}
    customer_html = render_to_string("widget/_message_push.html", shown)
    staff_html = render_to_string("console/_message_push.html", shown)
    _push_after_commit(conversation_id=message.conversation_id, render=lambda: customer_html)
    _group_push_after_commit(group=agents_group(message.conversation_id), render=lambda: staff_html)


def handoff_changed_after_commit(*, conversation: Conversation) -> None:
    """The conversation's state changed: the customer's status line, the agents'
    conversation view and the workspace's queue all follow."""
    _push_after_commit(
        conversation_id=conversation.pk,
        render=lambda: partials.customer_status_html(conversation_id=conversation.pk),
    )
    _group_push_after_commit(
        group=agents_group(conversation.pk),
        render=lambda: partials.conversation_status_html(conversation_id=conversation.pk),
    )
    queue_changed_after_commit(workspace_id=conversation.workspace_id)


def queue_changed_after_commit(*, workspace_id: int) -> None:
    _group_push_after_commit(
        group=console_group(workspace_id),
        render=lambda: partials.queue_html(workspace_id=workspace_id),
    )


def notes_changed_after_commit(*, conversation: Conversation) -> None:
    _group_push_after_commit(
        group=agents_group(conversation.pk),
        render=lambda: partials.notes_html(conversation_id=conversation.pk),
    )


async def typing(*, conversation_id: int, name: str) -> None:
    """An agent is writing to the customer; the line clears itself after a few seconds."""
    html = render_to_string("widget/_typing.html", {"name": name})
    await _push(conversation_id, html)


async def answer_text(*, message: Message, piece: str) -> None:
    """A streamed piece of an answer being written; the finished answer replaces them all."""
    html = f'<span hx-swap-oob="beforeend:#message-{message.pk}-stream">{escape(piece)}</span>'
    await _push(message.conversation_id, html)


async def answer_restarted(*, message: Message) -> None:
    """The model failed mid-answer; what it streamed is wiped before the fallback streams."""
    await _push(
        message.conversation_id,
        f'<span id="message-{message.pk}-stream" hx-swap-oob="true"></span>',
    )


async def answer_interrupted(*, message: Message, text: str) -> None:
    """The answer being written could not be kept: it ends on screen with `text`, rendered
    without the database, which may be the thing that failed."""
    html = render_to_string("widget/_interrupted.html", {"message_id": message.pk, "text": text})
    await _push(message.conversation_id, html)
