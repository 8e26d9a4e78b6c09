"""How fast a handoff reaches the other side, through Keel's ASGI application in this
process (Channels' communicator for both sockets, Django's async test client for the
agent's HTTP reply, the in-memory channel layer): from the customer pressing "Talk to a
person" to the queue update on an open console, and from the agent's reply to the
customer's socket. No network hop is included."""

import asyncio
import time

from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import AsyncClient, override_settings
from django.urls import reverse

from assistant.common.threads import in_thread
from assistant.conversations.selectors import queue_waiting
from assistant.handoffs.transitions import handoff_claim, handoff_resolve
from assistant.models import Membership, Workspace
from assistant.project.asgi import application

ROUNDS = 30
TIMEOUT = 30


def handoff_latency_measure(*, workspace: Workspace) -> dict:
    from bench.measurements import percentile_ms

    with override_settings(ALLOWED_HOSTS=["*"]):
        to_console, to_customer = asyncio.run(_rounds(workspace=workspace))
    return {
        "rounds": ROUNDS,
        "request_to_console_p50_ms": percentile_ms(to_console, 50),
        "request_to_console_p95_ms": percentile_ms(to_console, 95),
        "agent_reply_to_customer_p50_ms": percentile_ms(to_customer, 50),
        "agent_reply_to_customer_p95_ms": percentile_ms(to_customer, 95),
    }


async def _rounds(*, workspace: Workspace) -> tuple[list[float], list[float]]:
    agent, session_key = await in_thread(_agent_signed_in)(workspace=workspace)
    console = WebsocketCommunicator(
        application,
        f"/ws/console/{workspace.slug}/",
        headers=[
            (b"host", b"localhost"),
            (b"origin", b"http://localhost"),
            (b"cookie", f"sessionid={session_key}".encode()),
        ],
    )
    assert (await console.connect())[0]
    await _until(console, 'id="queue"')
    http = AsyncClient()
    http.cookies["sessionid"] = session_key
    to_console, to_customer = [], []
    for _ in range(ROUNDS):
        customer = WebsocketCommunicator(
            application,
            f"/ws/chat/{workspace.public_key}/",
            headers=[(b"host", b"localhost"), (b"origin", b"http://localhost")],
        )
        assert (await customer.connect())[0]
        await customer.send_json_to({"type": "hello", "visitor": ""})
        await _until(customer, 'id="session"')

        waiting = await in_thread(queue_waiting(workspace_id=workspace.pk).count)()
        started = time.perf_counter()
        await customer.send_json_to({"type": "handoff"})
        await _until(console, f'data-waiting="{waiting + 1}"')
        to_console.append(time.perf_counter() - started)

        handoff = await in_thread(queue_waiting(workspace_id=workspace.pk).last)()
        await in_thread(handoff_claim)(handoff=handoff, agent=agent)
        await _until(customer, "is with you")
        url = reverse("console_reply", args=[workspace.slug, handoff.conversation_id])
        started = time.perf_counter()
        await http.post(url, {"text": "Hello, how can I help?"})
        await _until(customer, "message--agent")
        to_customer.append(time.perf_counter() - started)

        await in_thread(handoff_resolve)(handoff=handoff, agent=agent)
        await _until(console, f'data-waiting="{waiting}"')
        await customer.disconnect()
    await console.disconnect()
    return to_console, to_customer


async def _until(socket: WebsocketCommunicator, fragment: str) -> str:
    while True:
        frame = await socket.receive_from(timeout=TIMEOUT)
        if fragment in frame:
            return frame


def _agent_signed_in(*, workspace: Workspace):
    user, _ = get_user_model().objects.get_or_create(username="bench-agent")
    Membership.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": Membership.Role.AGENT}
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return user, session.session_key
