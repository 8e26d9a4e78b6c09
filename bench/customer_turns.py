"""Customer messages sent through a real Keel server's customer websocket, as the widget
sends them, and each turn read back from Keel's own records (never from the reply's
wording). The acceptance kit and doc2dial runs share this: one way to ask, one way to read.
"""

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect

from assistant.common.threads import in_thread
from assistant.models import Citation, Conversation, Message, Workspace
from assistant.widget.visitors import visitor_key_from
from bench.html_text import visible_text
from bench.load import keel_server_start
from bench.measurements import knowledge_base_fresh
from knowledge.models import KnowledgeBase

ANSWER_TIMEOUT_SECONDS = 60.0
NOTICE_MARK = 'id="notice"'
SESSION_MARK = 'id="session"'


@dataclass(frozen=True)
class Sent:
    """What the customer channel gave back for one message."""

    visitor_token: str
    notice: str  # the widget's notice when the message was not taken (too long, ...)
    timed_out: bool


@dataclass(frozen=True)
class Turn:
    """One message's turn as Keel recorded it."""

    conversation: Conversation | None
    question: Message | None  # None: not taken (the notice is what the visitor saw)
    replies: list[Message]
    answer_text: str
    cited_sources: list[str]  # the cited documents' sources, each once, in marker order


def site_knowledge_base(*, workspace_slug: str, workspace_name: str, site: str) -> KnowledgeBase:
    """A fresh workspace whose chat `site` may embed, with an empty help centre."""
    knowledge_base = knowledge_base_fresh(
        workspace_slug=workspace_slug,
        slug="help-centre",
        name="Help centre",
        workspace_name=workspace_name,
    )
    Workspace.objects.filter(pk=knowledge_base.workspace_id).update(allowed_origins=[site])
    return knowledge_base


@contextmanager
def keel_server_running(*, log_path: Path) -> Iterator[str]:
    """A Keel server on the bench database for the block (its output in `log_path`);
    yields its `host:port`."""
    with log_path.open("w") as log:
        server, address = keel_server_start(environment={}, output=log)
        try:
            yield address
        finally:
            server.terminate()
            server.wait(timeout=30)


def messages_send(
    *,
    address: str,
    public_key: str,
    origin: str,
    messages: list[dict],
    reuses_previous_client: frozenset[str] = frozenset(),
) -> dict[str, Sent]:
    """Every message (`{"id", "text"}`) through the Keel server at `address`, one at a
    time, each from a new visitor (but those named in `reuses_previous_client`, which come
    from the previous message's visitor)."""
    return asyncio.run(
        _messages_send(
            url=f"ws://{address}/ws/chat/{public_key}/",
            origin=origin,
            messages=messages,
            reuses_previous_client=reuses_previous_client,
        )
    )


async def _messages_send(
    *, url: str, origin: str, messages: list[dict], reuses_previous_client: frozenset[str]
) -> dict[str, Sent]:
    sent: dict[str, Sent] = {}
    previous_token = ""
    for number, message in enumerate(messages, start=1):
        token = previous_token if message["id"] in reuses_previous_client else ""
        sent[message["id"]] = await _message_send(
            url=url, origin=origin, text=message["text"], visitor_token=token
        )
        previous_token = sent[message["id"]].visitor_token
        print(f"  {number}/{len(messages)} {message['id']}", end="\r", flush=True)
    print()
    return sent


async def _message_send(*, url: str, origin: str, text: str, visitor_token: str) -> Sent:
    """Hello as the widget says it, the message, then frames until Keel's records show the
    turn over (an answer finished, or the conversation handed to a person) or a notice."""
    async with connect(url, origin=origin, open_timeout=30, max_size=None) as chat:
        await chat.send(json.dumps({"type": "hello", "visitor": visitor_token, "page_origin": ""}))
        session = await asyncio.wait_for(_frame_with(chat, SESSION_MARK), ANSWER_TIMEOUT_SECONDS)
        visitor_token = re.search(r'data-visitor="([^"]*)"', session).group(1)
        visitor_key = visitor_key_from(token=visitor_token)
        asked_before = await in_thread(_questions_count)(visitor_key=visitor_key)
        await chat.send(json.dumps({"type": "ask", "message": text}))
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):
                while True:
                    frame = await chat.recv()
                    # A notice with words says why a message was not taken; once it is
                    # stored, notices only inform (the acknowledgement clears the notice,
                    # personal data removed), and the turn goes on.
                    notice = visible_text(frame) if NOTICE_MARK in frame else ""
                    if notice and not await in_thread(_turn_question)(
                        visitor_key=visitor_key, asked_before=asked_before
                    ):
                        return Sent(visitor_token, notice, timed_out=False)
                    if await in_thread(_turn_over)(
                        visitor_key=visitor_key, asked_before=asked_before
                    ):
                        return Sent(visitor_token, "", timed_out=False)
        except TimeoutError:
            return Sent(visitor_token, "", timed_out=True)


async def _frame_with(chat, mark: str) -> str:
    while True:
        frame = await chat.recv()
        if mark in frame:
            return frame


def _questions_count(*, visitor_key: str) -> int:
    return Message.objects.filter(
        conversation__visitor_key=visitor_key, role=Message.Role.CUSTOMER
    ).count()


def _turn_question(*, visitor_key: str, asked_before: int) -> Message | None:
    """The customer message this turn stored, once stored."""
    questions = Message.objects.filter(
        conversation__visitor_key=visitor_key, role=Message.Role.CUSTOMER
    ).order_by("pk")
    return questions[asked_before : asked_before + 1].first()


def _turn_over(*, visitor_key: str, asked_before: int) -> bool:
    """The question is stored and either its reply is finished, or a person has the
    conversation (the assistant stays silent then)."""
    question = _turn_question(visitor_key=visitor_key, asked_before=asked_before)
    if question is None:
        return False
    replies = _replies(question=question)
    if replies:
        return all(reply.outcome != Message.Outcome.STREAMING for reply in replies)
    return Conversation.objects.filter(
        pk=question.conversation_id,
        state__in=(Conversation.State.WAITING, Conversation.State.AGENT),
    ).exists()


def _replies(*, question: Message) -> list[Message]:
    """The assistant's messages after the question (and before any later one)."""
    return list(
        Message.objects.filter(
            conversation_id=question.conversation_id,
            role=Message.Role.ASSISTANT,
            pk__gt=question.pk,
        ).order_by("pk")
    )


def turn_read(*, sent: Sent) -> Turn:
    """The visitor's latest turn from Keel's records. A reply not finished within the
    time allowed counts as empty (the acceptance kit's rule)."""
    conversation = (
        Conversation.objects.filter(visitor_key=visitor_key_from(token=sent.visitor_token))
        .order_by("-pk")
        .first()
    )
    asked = Message.objects.filter(conversation=conversation, role=Message.Role.CUSTOMER)
    question = asked.order_by("-pk").first() if conversation and not sent.notice else None
    if question is None:
        return Turn(conversation, None, [], answer_text=sent.notice, cited_sources=[])
    replies = _replies(question=question)
    citations = (
        Citation.objects.filter(message__in=replies)
        .select_related("document", "chunk__document")
        .order_by("message_id", "marker")
    )
    cited = [(citation.document or citation.chunk.document).source for citation in citations]
    return Turn(
        conversation,
        question,
        replies,
        answer_text="" if sent.timed_out else "\n\n".join(reply.text for reply in replies),
        cited_sources=list(dict.fromkeys(cited)),
    )
