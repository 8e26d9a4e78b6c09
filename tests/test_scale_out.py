"""Two real Keel server processes sharing one real Redis: a customer on one and an agent on
the other see each other live; the rate limits are counted across both; and while Redis
is away the sockets close clearly, HTTP keeps working, nothing stored is lost, and all of
it works again when Redis is back, with no restart of Keel."""

import asyncio
import re

import httpx
import pytest
from channels_redis.core import RedisChannelLayer
from django.urls import reverse

from assistant.common.threads import in_thread
from assistant.conversations.events import console_group
from assistant.models import AgentPresence, Message
from tests.conftest import daphne_start, free_port, wait_for_port
from tests.support.chat import AgentClient, ChatClient, visible_text
from tests.support.factories import WorkspaceFactory
from tests.test_handoffs import ASKS_FOR_PERSON, action_url, messages, staff, the_handoff

pytestmark = pytest.mark.asyncio

CLOSE_TRY_AGAIN_LATER = 4013  # Keel's "try again later"; the pages reconnect after it
# A socket must be closed this soon after Redis goes away (redis-py retries a little).
CLOSE_WITHIN = 15  # seconds


class AgentPages:
    """An agent's browser against one server: the session cookie, the CSRF token the
    console pages carry in `hx-headers`, and the console's socket."""

    def __init__(self, server: str, workspace, session_key: str):
        self.server, self.workspace, self.session_key = server, workspace, session_key
        self.http = httpx.AsyncClient(
            base_url=server, cookies={"sessionid": session_key}, trust_env=False, timeout=60
        )

    async def get(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def post(self, name: str, handoff, data: dict | None = None) -> httpx.Response:
        page = await self.get(reverse("console", args=[self.workspace.slug]))
        if "csrftoken" in page.cookies:  # Secure: kept over plain http on localhost, as browsers do
            self.http.cookies.set("csrftoken", page.cookies["csrftoken"])
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)
        return await self.http.post(
            action_url(name, handoff), data=data or {}, headers={"X-CSRFToken": token}
        )

    async def console_socket(self) -> AgentClient:
        console = AgentClient(self.workspace.slug, session_key=self.session_key, server=self.server)
        connected, _ = await console.connect()
        assert connected
        await console.until("Online:")  # its own arrival, pushed to the queue through Redis
        return console

    async def close(self) -> None:
        await self.http.aclose()


async def customer_on(server: str, workspace) -> ChatClient:
    chat = ChatClient(workspace.public_key, server=server)
    assert await chat.connect()
    await chat.hello()
    return chat


async def customer_and_agent(keel_cluster, workspace) -> tuple[ChatClient, AgentClient, AgentPages]:
    """A customer on the first process; an agent, console socket and pages, on the second."""
    server_a, server_b = keel_cluster
    _, session_key = await staff(workspace)
    agent = AgentPages(server_b, workspace, session_key)
    console = await agent.console_socket()
    return await customer_on(server_a, workspace), console, agent


async def handed_over(chat: ChatClient, console: AgentClient, agent: AgentPages):
    """The customer asks for a person; the agent sees it arrive in the queue and takes it."""
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    assert "You're number 1 in the queue" in visible_text(await chat.until("in the queue"))
    queue = await console.until("Asked for a person")
    assert 'data-waiting="1"' in queue
    handoff = await the_handoff(agent.workspace)
    assert f"/conversations/{handoff.conversation_id}/" in queue
    await console.send({"type": "watch", "conversation_id": str(handoff.conversation_id)})
    claimed = await agent.post("console_claim", handoff)
    assert claimed.status_code == 200 and "With a person" in claimed.text
    assert "from our team is with you" in visible_text(await chat.until("is with you"))
    return handoff


async def health(server: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server, trust_env=False) as http:
        return await http.get(reverse("health"))


async def test_a_customer_on_one_process_and_an_agent_on_the_other_talk_live(
    demo_help_center, keel_cluster
):
    workspace = demo_help_center.workspace
    chat, console, agent = await customer_and_agent(keel_cluster, workspace)
    # Idle sockets stay open past channels-redis's 5 s blocking read.
    await asyncio.sleep(7)

    handoff = await handed_over(chat, console, agent)

    await console.send({"type": "typing"})
    assert "is typing" in visible_text(await chat.until("is typing"))
    await agent.post("console_reply", handoff, {"text": "Hi, I'm here. How can I help?"})
    reply = await chat.until("How can I help?")
    assert 'class="message message--agent"' in reply
    await chat.send({"type": "ask", "message": "My order TC-104582 never arrived."})
    seen = await console.until("never arrived")
    assert "My order TC-104582 never arrived." in visible_text(seen)

    stored = await messages(workspace)
    assert [(m.role, m.text) for m in stored][-2:] == [
        (Message.Role.AGENT, "Hi, I'm here. How can I help?"),
        (Message.Role.CUSTOMER, "My order TC-104582 never arrived."),
    ]
    health_a = await health(keel_cluster[0])
    assert health_a.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    await chat.close()
    await console.close()
    await agent.close()


async def test_rate_limits_are_counted_across_processes(redis_server, keel_servers):
    server_a, server_b = keel_servers(
        2, **redis_server.keel_environment(KEEL_RATE_LIMIT_CONNECTIONS_PER_IP="3/minute")
    )
    workspace = await in_thread(WorkspaceFactory)()
    sockets = [ChatClient(workspace.public_key, server=server) for server in [server_a, server_b]]
    sockets.append(ChatClient(workspace.public_key, server=server_a))
    for chat in sockets:
        assert await chat.connect()

    # The fourth connection from this address in a minute, whichever process it reaches.
    fourth = ChatClient(workspace.public_key, server=server_b)
    assert await fourth.communicator.connect() == (False, 403)
    for chat in sockets:
        await chat.close()


async def test_while_redis_is_away_sockets_close_clearly_and_everything_comes_back(
    demo_help_center, keel_cluster, redis_server
):
    server_a, _ = keel_cluster
    workspace = demo_help_center.workspace
    chat, console, agent = await customer_and_agent(keel_cluster, workspace)
    handoff = await handed_over(chat, console, agent)

    redis_server.stop()

    # Both open sockets are told and closed with 4013, which the pages retry; no hang.
    frames, code = await chat.communicator.closed(timeout=CLOSE_WITHIN)
    assert code == CLOSE_TRY_AGAIN_LATER
    assert "lost its connection and is reconnecting" in visible_text(frames[-1])
    frames, code = await console.communicator.closed(timeout=CLOSE_WITHIN)
    assert code == CLOSE_TRY_AGAIN_LATER
    assert "Live updates stopped" in visible_text(frames[-1])
    # The health check says what is wrong; pages and the agent's actions keep working.
    down = await health(server_a)
    assert down.status_code == 503
    assert down.json() == {"status": "unavailable", "database": "ok", "redis": "unreachable"}
    page = await agent.get(action_url("console_conversation", handoff))
    assert page.status_code == 200 and "I want to talk to a real person" in page.text
    sent = await agent.post("console_reply", handoff, {"text": "Sorry, one moment please."})
    assert sent.status_code == 200
    # A customer connecting now is told the same, at once.
    retry = ChatClient(workspace.public_key, server=server_a)
    assert await retry.connect()
    frames, code = await retry.communicator.closed(timeout=CLOSE_WITHIN)
    assert code == CLOSE_TRY_AGAIN_LATER and "reconnecting" in visible_text(frames[-1])

    redis_server.start()  # the same port; Keel's processes are not restarted

    assert (await health(server_a)).status_code == 200
    visitor_token = chat.visitor_token
    chat = ChatClient(workspace.public_key, server=server_a)
    chat.visitor_token = visitor_token  # the widget keeps it
    assert await chat.connect()
    history = visible_text(await chat.hello())
    assert "Sorry, one moment please." in history  # written while Redis was away
    console = await agent.console_socket()
    # The console page, back, asks for the conversation again: the reply written while its
    # socket was away is in the transcript it gets.
    await console.send(
        {"type": "watch", "conversation_id": str(handoff.conversation_id), "refresh": True}
    )
    transcript = await console.until('id="transcript"')
    assert 'hx-swap-oob="true"' in transcript
    assert "Sorry, one moment please." in visible_text(transcript)
    await chat.send({"type": "ask", "message": "Still here, any news?"})
    assert "any news?" in visible_text(await console.until("any news?"))
    await agent.post("console_reply", handoff, {"text": "Your parcel left today."})
    assert 'class="message message--agent"' in await chat.until("Your parcel left today.")

    stored = await messages(workspace)
    assert [m.text for m in stored if m.role != Message.Role.ASSISTANT] == [
        ASKS_FOR_PERSON,
        "Sorry, one moment please.",
        "Still here, any news?",
        "Your parcel left today.",
    ]
    await chat.close()
    await console.close()
    await agent.close()


# Enough pushes on their way that the agent's close lands while the socket still sends.
PUSHES_IN_FLIGHT = 400
PUSH = f"<p>{'x' * 20_000}</p>"


async def test_pushes_reaching_a_console_just_closed_are_dropped_and_the_agent_goes_offline(
    redis_server, transactional_db, tmp_path
):
    """A push that reaches a socket whose browser has just closed it is dropped: before, it
    crashed the consumer, which then never ran its clean-up, so the agent stayed "online"."""
    workspace = await in_thread(WorkspaceFactory)()
    _, session_key = await staff(workspace)
    port, log = free_port(), tmp_path / "daphne.log"
    with log.open("w") as output:
        server = daphne_start(port=port, output=output, **redis_server.keel_environment())
    try:
        wait_for_port(server, port, name="daphne")
        agent = AgentPages(f"http://localhost:{port}", workspace, session_key)
        console = await agent.console_socket()
        assert await online(workspace) == 1
        layer = RedisChannelLayer(hosts=[redis_server.url])
        for _ in range(PUSHES_IN_FLIGHT):
            await layer.group_send(console_group(workspace.pk), {"type": "chat.push", "html": PUSH})
        await console.close()
        await agent.close()
        async with asyncio.timeout(CLOSE_WITHIN):
            while await online(workspace):
                await asyncio.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Exception inside application" not in log.read_text()


@in_thread
def online(workspace) -> int:
    return AgentPresence.objects.filter(workspace=workspace).count()
