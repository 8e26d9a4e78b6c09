"""Pushes to a conversation's open sockets: rendered partials, sent after the data commits.

Every socket of a conversation (the customer's tabs now, agents later) is in one channel
group; the same partial templates render the page over HTTP and these pushes.
"""

from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.html import escape

from assistant.models import Message
from assistant.selectors import messages_for_display


def conversation_group(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


async def _push(conversation_id: int, html: str) -> None:
    await get_channel_layer().group_send(
        conversation_group(conversation_id), {"type": "chat.push", "html": html}
    )


def message_html(*, message_id: int, swap: str) -> str:
    """`swap` is "append" for a new message, "replace" for an update of one on screen."""
    message = messages_for_display().get(pk=message_id)
    return render_to_string("widget/_message_push.html", {"message": message, "swap": swap})


def _push_after_commit(*, conversation_id: int, render: Callable[[], str]) -> None:
    """Renders and pushes once the transaction commits, so the page shows stored data."""
    transaction.on_commit(lambda: async_to_sync(_push)(conversation_id, render()))


def notice_after_commit(*, conversation_id: int, text: str) -> None:
    """A line under the conversation for its customer, such as what was removed and why."""
    _push_after_commit(
        conversation_id=conversation_id,
        render=lambda: render_to_string("widget/_notice.html", {"text": text}),
    )


def message_added(*, message: Message) -> None:
    _push_after_commit(
        conversation_id=message.conversation_id,
        render=lambda: message_html(message_id=message.pk, swap="append"),
    )


def message_changed(*, message: Message) -> None:
    _push_after_commit(
        conversation_id=message.conversation_id,
        render=lambda: message_html(message_id=message.pk, swap="replace"),
    )


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
