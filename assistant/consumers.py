"""The customer's chat socket: check who and where, then hand each message to the pipeline.

Frames from the widget are JSON objects with a "type" (htmx's ws-send sends the form's
fields): "hello" once per connection, then "ask", "feedback", "handoff" (talk to a
person), "ticket" (an e-mail when no one is online) and "csat" (rating a person's help).
Replies are HTML partials that htmx swaps in by id. Anything malformed gets an error
notice, never a crash.

With several server processes the sockets meet through Redis (the channel layer, and the
rate limits). When Redis cannot be reached, a socket is closed with 4013 "try again later"
after a notice saying so: the page reconnects by itself (static/keel/reconnect.js), and a
socket opened while Redis is still away gets the same notice and close. What was stored
meanwhile is in the history the reconnected socket receives.
"""

import asyncio
import json
import logging
import re

import autobahn.exception
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from limits.errors import StorageError

from assistant import pipeline
from assistant.chat_frames import (
    ANSWER_NOT_FOUND,
    CsatFrameForm,
    FeedbackFrameForm,
    FrameForm,
    TicketFrameForm,
    form_first_error,
)
from assistant.conversations import (
    QuestionTaken,
    conversation_start,
    feedback_record,
    question_queue,
)
from assistant.events import (
    REDIS_UNREACHABLE,
    agents_group,
    console_group,
    conversation_group,
    staff_group,
    typing,
)
from assistant.handoff_requests import person_requested
from assistant.handoffs import IllegalTransition, csat_record, ticket_email_set
from assistant.languages import in_customer_language
from assistant.models import Conversation, Feedback, Message
from assistant.origins import embedding_allowed, keel_origin, origin_of, socket_secure
from assistant.partials import customer_status_context, transcript_and_status_html
from assistant.presence import presence_end, presence_start
from assistant.ratelimits import within_limit
from assistant.selectors import (
    conversation_for_staff,
    conversation_messages,
    conversation_of_customer,
    handoff_latest,
    handoff_open,
    message_in_conversation,
    question_queued_next,
    staff_membership,
    workspace_by_public_key,
)
from assistant.threads import in_thread
from assistant.visitors import identity_verified, visitor_key_from, visitor_token_new

logger = logging.getLogger(__name__)

# Far above any legitimate frame; longer ones are refused unread.
MAX_FRAME_CHARS = 256 * 1024
TOO_LONG_NOTICE = _(
    "Your message is {length:,} characters long; the limit is {limit:,}. "
    "Please shorten it and send it again."
)
RATE_LIMITED_NOTICE = _("You're sending messages faster than I can answer. Please wait a minute.")
# One task per conversation in this process answers its questions in turn; one sent
# meanwhile, from any of the customer's tabs, is stored at once and answered after those
# before it. The task goes on when the socket that started it drops: answers are stored
# and pushed to the conversation's group, where a reconnected socket picks them up.
_answering: dict[int, asyncio.Task] = {}

CLOSE_FORBIDDEN = 4403
# RFC 6455's 1013 "try again later" in the range daphne may send; reconnect.js retries it.
CLOSE_TRY_AGAIN_LATER = 4013
# What sending on a socket the client has closed raises: ASGI servers raise an OSError
# (the spec's choice); daphne, Keel's server, lets its websocket library's error through.
CLIENT_GONE = (OSError, autobahn.exception.Disconnected)


class RealtimeConsumer(AsyncWebsocketConsumer):
    """A socket that closes clearly, instead of crashing, when Redis is unreachable: in the
    channel layer's receive loop, a group change or a rate limit, at any point of its life;
    and that drops, instead of crashing on, frames sent after its browser closed it."""

    role = ""  # which socket, for the logs
    notice_template = ""  # the partial that tells the page why it closed
    unavailable_text = ""

    async def __call__(self, scope, receive, send):
        self.accepted = self.closing = self.gone = False
        try:
            await super().__call__(scope, receive, self._while_open(send))
        except (*REDIS_UNREACHABLE, StorageError) as error:
            logger.warning("Redis unreachable, closing the %s socket: %s", self.role, error)
            await self.redis_lost()
            if not self.closing:
                if not self.accepted:
                    await self.accept()
                notice = render_to_string(self.notice_template, {"text": self.unavailable_text})
                await self.send(text_data=notice)
                await self.close(code=CLOSE_TRY_AGAIN_LATER, reason="Redis unreachable")

    async def accept(self, subprotocol=None, headers=None):
        self.accepted = True
        await super().accept(subprotocol, headers)

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code, reason)

    async def websocket_disconnect(self, message):
        self.closing = True
        await super().websocket_disconnect(message)

    async def redis_lost(self):
        """Clean-up that `disconnect` would have done, for what lives outside Redis."""

    def _while_open(self, send):
        """`send`, dropping what reaches a socket its browser has just closed: a push on its
        way when the page closed would otherwise crash the consumer before its `disconnect`,
        which is on its way too and does the clean-up."""

        async def send_while_open(message: dict) -> None:
            if self.gone:
                return
            try:
                await send(message)
            except CLIENT_GONE:
                self.gone = self.closing = True
                logger.info("The %s socket had closed; its frames are dropped", self.role)

        return send_while_open


class ChatConsumer(RealtimeConsumer):
    role = "chat"
    notice_template = "widget/_notice.html"
    unavailable_text = (
        "The chat lost its connection and is reconnecting. If your last message does not "
        "appear above, please send it again."
    )

    async def connect(self):
        self.visitor_key = None
        self.visitor_token = self.customer_id = ""
        self.conversation = None
        self.client_ip = (self.scope.get("client") or ["unknown"])[0]
        headers = dict(self.scope["headers"])
        self.keel = keel_origin(
            host=headers.get(b"host", b"").decode("latin-1"), secure=socket_secure(scope=self.scope)
        )
        self.socket_origin = origin_of(headers.get(b"origin", b"").decode("latin-1"))
        self.workspace = await in_thread(workspace_by_public_key)(
            public_key=self.scope["url_route"]["kwargs"]["public_key"]
        )
        if self.workspace is None or not embedding_allowed(
            workspace=self.workspace, origin=self.socket_origin, keel=self.keel
        ):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await within_limit(rule="connections_per_ip", key=self.client_ip):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()

    async def disconnect(self, code):
        await self._leave_conversation()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.notice("That message could not be read. Please try again.")
            return
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):  # nested deeper than the parser recurses
            frame = None
        handlers = {
            "hello": self.hello,
            "ask": self.ask,
            "feedback": self.feedback,
            "handoff": self.handoff,
            "ticket": self.ticket,
            "csat": self.csat,
        }
        handler = handlers.get(_text(frame, "type")) if isinstance(frame, dict) else None
        if handler is None:
            await self.notice("That message could not be read. Please try again.")
        elif handler != self.hello and self.visitor_key is None:
            await self.notice("The chat is still connecting. Please try again in a moment.")
        else:
            await handler(frame)

    async def hello(self, frame: dict):
        """Who the customer is and which page they are on; answered with their history."""
        page_origin = origin_of(_text(frame, "page_origin")) or self.socket_origin
        if not embedding_allowed(workspace=self.workspace, origin=page_origin, keel=self.keel):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        visitor_token = _text(frame, "visitor")
        visitor_key, visitor_token = visitor_token_new(
            visitor_key=visitor_key_from(token=visitor_token)
        )
        customer_id = _text(frame, "user_id")[:200]
        if not identity_verified(
            secret=self.workspace.identity_secret,
            customer_id=customer_id,
            signature=_text(frame, "user_hash"),
        ):
            customer_id = ""
        await self._leave_conversation()
        self.visitor_key, self.visitor_token = visitor_key, visitor_token
        self.customer_id = customer_id
        self.conversation = await in_thread(conversation_of_customer)(
            workspace=self.workspace, visitor_key=visitor_key, customer_id=customer_id
        )
        if self.conversation is not None:
            await self.channel_layer.group_add(
                conversation_group(self.conversation.pk), self.channel_name
            )
        await self.send(text_data=await in_thread(self._session_html)())
        if self.conversation is not None:  # what a server that stopped left unanswered
            _answers_start(conversation=self.conversation)

    async def ask(self, frame: dict):
        text = _text(frame, "message").strip()
        limit = settings.KEEL_MAX_MESSAGE_CHARS
        if not text:
            await self.notice("Type a question first.")
        elif len(text) > limit:
            await self.notice(
                in_customer_language(TOO_LONG_NOTICE, text=text, length=len(text), limit=limit)
            )
        elif not (
            # The socket's own count first: a new "hello" makes a new visitor, not a new socket.
            await within_limit(rule="messages_per_socket", key=self.channel_name)
            and await within_limit(rule="messages_per_visitor", key=self.visitor_key)
            and await within_limit(rule="messages_per_ip", key=self.client_ip)
        ):
            await self.notice(in_customer_language(RATE_LIMITED_NOTICE, text=text))
        else:
            await self._conversation_ensure()
            await self._question_keep(text, sent=_text(frame, "sent")[:20])

    async def feedback(self, frame: dict):
        form = _frame_form(frame, FeedbackFrameForm)
        if not form.is_valid():
            await self.notice(form_first_error(form))
            return
        message = None
        if self.conversation is not None:
            message = await in_thread(message_in_conversation)(
                conversation_id=self.conversation.pk, message_id=form.cleaned_data["message_id"]
            )
        if message is None or message.role != Message.Role.ASSISTANT:
            await self.notice(ANSWER_NOT_FOUND)
        else:
            await in_thread(feedback_record)(
                message=message,
                rating=Feedback.Rating(form.cleaned_data["rating"]),
                comment=form.cleaned_data["comment"],
            )
            await self.notice("Thank you for your feedback.")

    async def handoff(self, frame: dict):
        await self._conversation_ensure()
        try:
            await in_thread(person_requested)(conversation=self.conversation)
        except IllegalTransition:
            await self.notice("You're already waiting for a person from our team.")

    async def ticket(self, frame: dict):
        form = _frame_form(frame, TicketFrameForm)
        if not form.is_valid():
            await self.notice(form_first_error(form))
            return
        handoff = await self._open_handoff()
        if handoff is None:
            await self.notice("There is no request for a person to attach your e-mail to.")
            return
        await in_thread(ticket_email_set)(handoff=handoff, email=form.cleaned_data["email"])

    async def csat(self, frame: dict):
        form = _frame_form(frame, CsatFrameForm)
        handoff = None
        if self.conversation is not None:
            handoff = await in_thread(handoff_latest)(conversation_id=self.conversation.pk)
        if handoff is None or handoff.closed_at is None:
            await self.notice("There is no finished conversation with our team to rate.")
        elif not form.is_valid():
            await self.notice(form_first_error(form))
        else:
            await in_thread(csat_record)(handoff=handoff, rating=form.cleaned_data["rating"])

    async def _open_handoff(self):
        if self.conversation is None:
            return None
        return await in_thread(handoff_open)(conversation_id=self.conversation.pk)

    async def _conversation_ensure(self):
        if self.conversation is None:
            self.conversation, started = await in_thread(conversation_start)(
                workspace=self.workspace,
                visitor_key=self.visitor_key,
                customer_id=self.customer_id,
            )
            await self.channel_layer.group_add(
                conversation_group(self.conversation.pk), self.channel_name
            )
            if not started:  # another tab of theirs started it: this one shows it whole
                await self.send(text_data=await in_thread(self._session_html)())

    async def _question_keep(self, text: str, *, sent: str):
        """The question stored, then acknowledged with the number the widget `sent` it
        with (it clears its box only then): answered now, or queued behind the one being
        answered. Frames are handled one at a time, so questions are stored in order."""
        conversation = self.conversation
        try:
            if _answering_now(conversation.pk):
                await in_thread(question_queue)(conversation=conversation, text=text)
                # After the task now answering, which may have looked for queued
                # questions already: this one looks again once it is done.
                _answers_start(conversation=conversation)
            else:
                stored = asyncio.get_running_loop().create_future()
                _answers_start(conversation=conversation, text=text, stored=stored)
                await stored
        except (pipeline.QuestionNotStored, DatabaseError, ObjectDoesNotExist):
            logger.exception("Storing a message in conversation %s failed", conversation.pk)
            await self.unsent(text)
        except Exception:
            logger.exception("Answering in conversation %s failed", conversation.pk)
            await self.notice("Sorry, something went wrong. Please try again in a moment.")
        else:
            await self.send(text_data=render_to_string("widget/_accepted.html", {"sent": sent}))

    async def chat_push(self, event: dict):
        await self.send(text_data=event["html"])

    async def unsent(self, text: str):
        """The message was not kept: said so, and put back in the box to send again."""
        await self.send(
            text_data=render_to_string(
                "widget/_unsent.html",
                {
                    "text": "Sorry, your message could not be sent. "
                    "Please send it again in a moment.",
                    "message_text": text,
                    "max_message_chars": settings.KEEL_MAX_MESSAGE_CHARS,
                },
            )
        )

    async def notice(self, text: str):
        await self.send(text_data=render_to_string("widget/_notice.html", {"text": text}))

    async def _leave_conversation(self):
        if self.conversation is not None:
            await self.channel_layer.group_discard(
                conversation_group(self.conversation.pk), self.channel_name
            )

    def _session_html(self) -> str:
        messages = (
            list(conversation_messages(conversation_id=self.conversation.pk))
            if self.conversation is not None
            else []
        )
        status = (
            customer_status_context(conversation=self.conversation)
            if self.conversation is not None
            else {"conversation": None}
        )
        return render_to_string(
            "widget/_session.html",
            {
                "workspace": self.workspace,
                "messages": messages,
                "visitor_token": self.visitor_token,
                **status,
            },
        )


def _answering_now(conversation_id: int) -> bool:
    task = _answering.get(conversation_id)
    return task is not None and not task.done()


def _answers_start(
    *, conversation: Conversation, text: str = "", stored: asyncio.Future | None = None
) -> None:
    """After the conversation's answering task if one runs: answers `text` if given
    (`stored` resolves once it is kept, or fails with why it was not), then its queued
    questions, oldest first."""
    before = _answering.get(conversation.pk)

    async def answers() -> None:
        if before is not None:
            await asyncio.wait([before])
        if text:
            try:
                await pipeline.answer(
                    conversation=conversation,
                    text=text,
                    # The asker may be gone (its wait cancelled): the answer goes on.
                    on_stored=lambda: stored.done() or stored.set_result(None),
                )
            except Exception as error:
                if stored.done():
                    logger.exception("Answering in conversation %s failed", conversation.pk)
                else:
                    stored.set_exception(error)
        await _queued_answer(conversation=conversation)

    task = asyncio.create_task(answers())
    _answering[conversation.pk] = task

    def forget(done: asyncio.Task) -> None:
        if _answering.get(conversation.pk) is done:
            del _answering[conversation.pk]

    task.add_done_callback(forget)


async def _queued_answer(*, conversation: Conversation) -> None:
    while question := await in_thread(question_queued_next)(conversation_id=conversation.pk):
        try:
            await pipeline.answer(conversation=conversation, text=question.text, queued=question)
        except QuestionTaken:
            return  # another server process is answering them, in order
        except Exception:
            # Still queued: answered when one of the customer's sockets next says hello.
            logger.exception("Answering in conversation %s failed", conversation.pk)
            return


# C0 control characters but tab and newline: PostgreSQL refuses NUL, and none belongs in a
# chat. Lone surrogates (JSON's "\ud800") cannot be encoded, by spaCy or the database.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _text(frame: dict, field: str) -> str:
    """A frame's field as clean text, the one way every field is read ("" if not text)."""
    value = frame.get(field, "")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return _LONE_SURROGATES.sub("\ufffd", _CONTROL_CHARACTERS.sub("", value))


def _row_id(frame: dict, field: str) -> int | None:
    """A frame's field as a database id, or None: isdecimal, not isdigit (int() refuses
    "²"), and at most 18 digits (PostgreSQL's bigint)."""
    value = _text(frame, field)
    return int(value) if value.isdecimal() and len(value) <= 18 else None


def _frame_form(frame: dict, form_class: type[FrameForm]) -> FrameForm:
    """The form over the frame's fields, each read as `_text` reads it."""
    names = form_class.base_fields
    return form_class(
        fields={name: _text(frame, name) for name in names},
        unreadable={name for name in names if not isinstance(frame.get(name, ""), str | int)},
    )


class AgentConsumer(RealtimeConsumer):
    """A console socket: live queue, and live updates of the conversation being viewed.

    Only signed-in agents and admins of the workspace connect, and their membership is
    checked again on every frame; a membership removed or changed closes the socket at once
    (events.membership_changed, through the person's own group). A customer socket never
    joins these groups; this socket never joins a customer's.
    Frames: "watch" (a conversation of the workspace; with "refresh", sent again after a
    reconnection, the conversation as it is now comes back) and "typing".
    """

    role = "console"
    notice_template = "console/_notice.html"
    unavailable_text = "Live updates stopped: the connection was lost. Reconnecting…"

    async def connect(self):
        self.watching = None
        self.slug = self.scope["url_route"]["kwargs"]["workspace_slug"]
        membership = await self._membership()
        if membership is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.workspace = membership.workspace
        await self.accept()
        await self.channel_layer.group_add(self._staff_group(), self.channel_name)
        # Checked again once in the group: a removal in between found no socket to close.
        if await self._membership() is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(console_group(self.workspace.pk), self.channel_name)
        await in_thread(presence_start)(
            user=self.scope["user"], workspace=self.workspace, channel_name=self.channel_name
        )

    async def disconnect(self, code):
        if getattr(self, "workspace", None) is None:
            return
        await self.channel_layer.group_discard(self._staff_group(), self.channel_name)
        await self.channel_layer.group_discard(console_group(self.workspace.pk), self.channel_name)
        await self._unwatch()
        await in_thread(presence_end)(workspace=self.workspace, channel_name=self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if await self._membership() is None:  # removed before its socket heard of it
            await self.access_changed({})
            return
        if frame.get("type") == "watch":
            await self.watch(
                _row_id(frame, "conversation_id"), refresh=frame.get("refresh") is True
            )
        elif frame.get("type") == "typing" and self.watching is not None:
            handoff = await in_thread(handoff_open)(conversation_id=self.watching)
            user = self.scope["user"]
            if handoff is not None and handoff.claimed_by_id == user.pk:
                await typing(
                    conversation_id=self.watching, name=user.get_short_name() or user.get_username()
                )

    async def watch(self, conversation_id: int | None, *, refresh: bool):
        """Live updates of one conversation; `refresh`: a page whose socket was lost wants
        the conversation as it is now (read after joining, so nothing falls in between)."""
        found = None
        if conversation_id is not None:
            found = await in_thread(conversation_for_staff)(
                workspace=self.workspace, conversation_id=conversation_id
            )
        await self._unwatch()
        if found is not None:
            self.watching = found.pk
            await self.channel_layer.group_add(agents_group(found.pk), self.channel_name)
            if refresh:
                await self.send(
                    text_data=await in_thread(transcript_and_status_html)(conversation_id=found.pk)
                )

    async def chat_push(self, event: dict):
        if not self.closing:  # nothing more once its access is gone
            await self.send(text_data=event["html"])

    async def access_changed(self, event: dict):
        """The person's membership was removed or changed: told so, and closed (once, though
        a frame and the change's own event may both find it)."""
        if self.closing:
            return
        notice = render_to_string(
            "console/_notice.html",
            {"text": "Your access to this workspace changed. Reload the page to go on."},
        )
        await self.send(text_data=notice)
        await self.close(code=CLOSE_FORBIDDEN)

    async def redis_lost(self):
        if getattr(self, "workspace", None) is not None:
            await in_thread(presence_end)(workspace=self.workspace, channel_name=self.channel_name)

    async def _unwatch(self):
        if self.watching is not None:
            await self.channel_layer.group_discard(agents_group(self.watching), self.channel_name)
            self.watching = None

    def _staff_group(self) -> str:
        return staff_group(user_id=self.scope["user"].pk, workspace_id=self.workspace.pk)

    async def _membership(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        return await in_thread(staff_membership)(user=user, workspace_slug=self.slug)
