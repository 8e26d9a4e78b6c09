"""What the chat and console sockets share: a close with a notice instead of a crash when
Redis is unreachable, frames dropped after the browser closed the socket, and one way to
read a frame's fields."""

import logging
import re

import autobahn.exception
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string
from limits.errors import StorageError

from assistant.conversations.events import REDIS_UNREACHABLE

logger = logging.getLogger(__name__)

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


# C0 control characters but tab and newline: PostgreSQL refuses NUL, and none belongs in a
# chat. Lone surrogates (JSON's "\ud800") cannot be encoded, by spaCy or the database.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")


def frame_text(frame: dict, field: str) -> str:
    """A frame's field as clean text, the one way every field is read ("" if not text)."""
    value = frame.get(field, "")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return _LONE_SURROGATES.sub("\ufffd", _CONTROL_CHARACTERS.sub("", value))


def frame_row_id(frame: dict, field: str) -> int | None:
    """A frame's field as a database id, or None: isdecimal, not isdigit (int() refuses
    "²"), and at most 18 digits (PostgreSQL's bigint)."""
    value = frame_text(frame, field)
    return int(value) if value.isdecimal() and len(value) <= 18 else None
