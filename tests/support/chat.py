"""Chat and console sockets for tests: the real ASGI application, through Channels'
communicator, or a real server over the network (`server=` its URL)."""

import asyncio
import json
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from assistant.project.asgi import application
from bench.html_text import visible_text

KEEL_ORIGIN = "http://testserver"
# Staff sockets only accept Keel's own hosts (ALLOWED_HOSTS, read when the app loads).
AGENT_ORIGIN = "http://localhost"
FRAME_TIMEOUT = 60  # seconds; the first answer of a run loads the embedding model


@dataclass
class Answer:
    frames: list[str]  # everything received while it was written, in order
    html: str  # the finished answer's partial

    @property
    def streamed_pieces(self) -> list[str]:
        return [frame for frame in self.frames if 'hx-swap-oob="beforeend:#message-' in frame]

    @property
    def text(self) -> str:
        return visible_text(self.html)


class LiveSocket:
    """A websocket to a real server, with the part of the communicator's interface that
    the clients below use; it also tells how the server closed it."""

    def __init__(
        self,
        server: str,
        path: str,
        *,
        origin: str,
        cookie: str = "",
        tls: ssl.SSLContext | None = None,
    ):
        scheme = "wss" if server.startswith("https:") else "ws"
        self.url = urlsplit(server)._replace(scheme=scheme, path=path).geturl()
        self.origin = origin
        self.headers = {"Cookie": cookie} if cookie else {}
        self.tls = tls  # what an https server's certificate is checked with
        self.connection = None

    async def connect(self) -> tuple[bool, int | None]:
        try:
            self.connection = await connect(
                self.url,
                origin=self.origin,
                additional_headers=self.headers,
                proxy=None,
                ssl=self.tls,
            )
        except InvalidStatus as refusal:
            return False, refusal.response.status_code
        return True, None

    async def send_to(self, text_data: str) -> None:
        await self.connection.send(text_data)

    async def receive_from(self, timeout: float) -> str:
        return await asyncio.wait_for(self.connection.recv(), timeout)

    async def receive_nothing(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.connection.recv(), timeout)
        except TimeoutError:
            return True
        return False

    async def closed(self, timeout: float = FRAME_TIMEOUT) -> tuple[list[str], int]:
        """Every frame until the server closes the socket, and its close code."""
        frames = []
        try:
            while True:
                frames.append(await self.receive_from(timeout))
        except ConnectionClosed as closing:
            return frames, closing.rcvd.code if closing.rcvd else 1006

    async def disconnect(self) -> None:
        await self.connection.close()


class ChatClient:
    def __init__(
        self,
        public_key: str,
        *,
        origin: str = "",  # Keel's own pages' (the server's, or KEEL_ORIGIN in-process)
        ip: str = "203.0.113.5",
        server: str = "",
        tls: ssl.SSLContext | None = None,
    ):
        path = f"/ws/chat/{public_key}/"
        if server:  # the server's own pages embed the chat; the client's address is real
            self.communicator = LiveSocket(server, path, origin=origin or server, tls=tls)
        else:
            self.communicator = WebsocketCommunicator(
                application,
                path,
                headers=[(b"host", b"testserver"), (b"origin", (origin or KEEL_ORIGIN).encode())],
            )
            self.communicator.scope["client"] = (ip, 50000)
        self.visitor_token = ""

    async def connect(self) -> bool:
        connected, _ = await self.communicator.connect()
        return connected

    async def send(self, frame) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self) -> str:
        return await self.communicator.receive_from(timeout=FRAME_TIMEOUT)

    async def hello(self, **fields) -> str:
        """Says hello as the widget does; returns the session frame (the history)."""
        await self.send({"type": "hello", "visitor": self.visitor_token, **fields})
        session = await self.receive()
        self.visitor_token = re.search(r'data-visitor="([^"]*)"', session).group(1)
        return session

    async def ask(self, text: str) -> Answer:
        await self.send({"type": "ask", "message": text})
        frames = []
        while True:
            frame = await self.receive()
            frames.append(frame)
            if finished_answer(frame):
                return Answer(frames=frames, html=frame)

    async def until(self, fragment: str) -> str:
        """The first frame that contains `fragment` (in its visible text or its markup)."""
        while True:
            frame = await self.receive()
            if fragment in frame or fragment in visible_text(frame):
                return frame

    async def close(self) -> None:
        await self.communicator.disconnect()


class AgentClient:
    """An agent's console socket, signed in with a real session cookie."""

    def __init__(
        self,
        workspace_slug: str,
        *,
        session_key: str,
        origin: str = AGENT_ORIGIN,
        server: str = "",
    ):
        path = f"/ws/console/{workspace_slug}/"
        cookie = f"sessionid={session_key}"
        if server:
            self.communicator = LiveSocket(server, path, origin=origin, cookie=cookie)
        else:
            self.communicator = WebsocketCommunicator(
                application,
                path,
                headers=[
                    (b"host", b"localhost"),
                    (b"origin", origin.encode()),
                    (b"cookie", cookie.encode()),
                ],
            )

    async def connect(self) -> tuple[bool, int | None]:
        return await self.communicator.connect()

    async def send(self, frame: dict) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def until(self, fragment: str) -> str:
        while True:
            frame = await self.communicator.receive_from(timeout=FRAME_TIMEOUT)
            if fragment in frame or fragment in visible_text(frame):
                return frame

    async def nothing_more(self) -> bool:
        return await self.communicator.receive_nothing(timeout=0.5)

    async def close(self) -> None:
        await self.communicator.disconnect()


async def one_question(public_key: str, question: str) -> Answer:
    """A new visitor connects, asks one question, and leaves once it is answered."""
    chat = ChatClient(public_key)
    assert await chat.connect()
    await chat.hello()
    answer = await chat.ask(question)
    await chat.close()
    return answer


def finished_answer(frame: str) -> bool:
    return (
        'class="message message--assistant"' in frame
        and 'hx-swap-oob="true"' in frame
        and "message__text--streaming" not in frame
    )
