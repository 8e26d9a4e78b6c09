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

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from assistant.answering import pipeline
from assistant.common.languages import in_customer_language
from assistant.common.ratelimits import within_limit
from assistant.common.threads import in_thread
from assistant.conversations.events import conversation_group
from assistant.conversations.partials import customer_status_context
from assistant.conversations.selectors import (
    conversation_messages,
    conversation_of_customer,
    handoff_latest,
    handoff_open,
    message_in_conversation,
    question_queued_next,
    workspace_by_public_key,
)
from assistant.conversations.services import (
    QuestionTaken,
    conversation_start,
    feedback_record,
    question_queue,
)
from assistant.conversations.sockets import (
    CLOSE_FORBIDDEN,
    RealtimeConsumer,
    frame_text,
)
from assistant.handoffs.requests import person_requested
from assistant.handoffs.transitions import IllegalTransition, csat_record
from assistant.models import Conversation, Feedback, Message
from assistant.tickets.services import ticket_open
from assistant.widget.chat_frames import (
    ANSWER_NOT_FOUND,
    CsatFrameForm,
    FeedbackFrameForm,
    FrameForm,
    TicketFrameForm,
    form_first_error,
)
from assistant.widget.origins import embedding_allowed, keel_origin, origin_of, socket_secure
from assistant.widget.visitors import identity_verified, visitor_key_from, visitor_token_new

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
        handler = handlers.get(frame_text(frame, "type")) if isinstance(frame, dict) else None
        if handler is None:
            await self.notice("That message could not be read. Please try again.")
        elif handler != self.hello and self.visitor_key is None:
            await self.notice("The chat is still connecting. Please try again in a moment.")
        else:
            await handler(frame)

    async def hello(self, frame: dict):
        """Who the customer is and which page they are on; answered with their history."""
        page_origin = origin_of(frame_text(frame, "page_origin")) or self.socket_origin
        if not embedding_allowed(workspace=self.workspace, origin=page_origin, keel=self.keel):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        visitor_token = frame_text(frame, "visitor")
        visitor_key, visitor_token = visitor_token_new(
            visitor_key=visitor_key_from(token=visitor_token)
        )
        customer_id = frame_text(frame, "user_id")[:200]
        if not identity_verified(
            secret=self.workspace.identity_secret,
            customer_id=customer_id,
            signature=frame_text(frame, "user_hash"),
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
        text = frame_text(frame, "message").strip()
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
            await self._question_keep(text, sent=frame_text(frame, "sent")[:20])

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
        await in_thread(ticket_open)(handoff=handoff, email=form.cleaned_data["email"])

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


def _frame_form(frame: dict, form_class: type[FrameForm]) -> FrameForm:
    """The form over the frame's fields, each read as `frame_text` reads it."""
    names = form_class.base_fields
    return form_class(
        fields={name: frame_text(frame, name) for name in names},
        unreadable={name for name in names if not isinstance(frame.get(name, ""), str | int)},
    )
