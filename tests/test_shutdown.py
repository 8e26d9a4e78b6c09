"""A server told to stop (SIGTERM: every deploy, systemd, Docker, Kubernetes) stops, even
with a request thread still storing a customer's message, and what it stores is kept; the
questions it accepted but had not answered yet are answered once a server is back."""

import asyncio
import signal
import time

import psycopg
import pytest

from assistant.common.threads import LOOP_CHECK_SECONDS, in_thread
from assistant.models import Message
from bench.llm_server import FakeLLMServer, Reply
from tests.conftest import daphne_start, free_port, port_open, url_of_test_database, wait_for_port
from tests.support.chat import ChatClient, finished_answer
from tests.support.factories import WorkspaceFactory
from tests.test_scale_out import customer_on

pytestmark = [pytest.mark.asyncio, pytest.mark.processes]

QUESTION = "Where is my parcel?"
# Generous: daphne gives its application instances 2 s (tests' DAPHNE), then exits.
EXIT_WITHIN = 30  # seconds


async def test_a_server_stopped_while_a_thread_stores_a_message_exits_and_keeps_it(
    transactional_db,
):
    workspace = await in_thread(WorkspaceFactory)()
    port = free_port()
    server = daphne_start(port=port)
    try:
        wait_for_port(server, port, name="daphne")
        chat = await customer_on(f"http://localhost:{port}", workspace)
        async with await psycopg.AsyncConnection.connect(url_of_test_database()) as holder:
            # Messages can be read but not written: the question's store waits in its thread.
            await holder.execute("LOCK TABLE assistant_message IN EXCLUSIVE MODE")
            await chat.send({"type": "ask", "message": QUESTION})
            await _until_a_query_waits_for_a_lock()
            server.send_signal(signal.SIGTERM)
            await _until_closed(port)
            # The port closes as shutdown begins; the event loop stops just after.
            await asyncio.sleep(1 + LOOP_CHECK_SECONDS)
            await holder.rollback()  # the store goes on, commits, and its push finds no loop
        assert await asyncio.to_thread(server.wait, EXIT_WITHIN) == 0
    finally:
        if server.poll() is None:  # hung: joining a thread that waits for the stopped loop
            server.kill()
            server.wait()
    assert await in_thread(
        Message.objects.filter(
            conversation__workspace=workspace, role=Message.Role.CUSTOMER, text=QUESTION
        ).exists
    )()


QUICK_QUESTIONS = [
    "How do I return a bike? I'm jo@example.com",
    "Do you ship to Canada?",
    "How long does delivery to Canada take?",
    "How much does shipping a bike cost in the US?",
    "Can I return a bike I rode?",
    "How do I track my order?",
]


async def test_questions_accepted_before_a_deploy_are_kept_and_answered_after_it(
    demo_help_center,
):
    """Six quick questions, then SIGTERM: all six were stored before the widget was told
    to clear its box, and a new server answers those still waiting when the customer's
    socket says hello again."""
    workspace = demo_help_center.workspace
    # The first answer's model never starts writing while this server runs.
    with FakeLLMServer(default=Reply(first_token_delay=EXIT_WITHIN * 2)) as model:
        port = free_port()
        server = daphne_start(
            port=port, LLM_BASE_URL=model.base_url, LLM_MODEL="slow", LLM_API_KEY="test"
        )
        try:
            wait_for_port(server, port, name="daphne")
            chat = await customer_on(f"http://localhost:{port}", workspace)
            for question in QUICK_QUESTIONS:
                await chat.send({"type": "ask", "message": question})
            accepted = 0
            while accepted < len(QUICK_QUESTIONS):
                accepted += 'id="accepted"' in await chat.receive()
            server.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(server.wait, EXIT_WITHIN) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

    questions = await in_thread(_questions_of)(workspace)
    assert [question.text for question in questions] == [
        "How do I return a bike? I'm [EMAIL_1]",
        *QUICK_QUESTIONS[1:],
    ]
    waiting = [question for question in questions if question.queued]
    assert waiting  # the first was being answered; the others were waiting their turn

    port = free_port()
    server = daphne_start(port=port)  # the new version, answering extractively
    try:
        wait_for_port(server, port, name="daphne")
        again = ChatClient(workspace.public_key, server=f"http://localhost:{port}")
        again.visitor_token = chat.visitor_token
        assert await again.connect()
        await again.hello()
        answered = 0
        while answered < len(waiting):
            answered += finished_answer(await again.receive())
        await again.close()
    finally:
        server.terminate()
        server.wait()

    # Each answer follows its own question, in the order they were sent; the one being
    # answered at the SIGTERM is left "being written", for `interrupted_answers_fail`.
    messages = await in_thread(
        lambda: list(Message.objects.filter(conversation__workspace=workspace))
    )()
    assert [message.role for message in messages] == ["customer", "assistant"] * len(questions)
    assert [message.text for message in messages[::2]] == [question.text for question in questions]
    finished = [
        (question, answer)
        for question, answer in zip(messages[::2], messages[1::2], strict=True)
        if answer.outcome != Message.Outcome.STREAMING
    ]
    assert len(finished) == len(waiting)
    assert all(
        answer.trace["search_query"] == question.search_query for question, answer in finished
    )


def _questions_of(workspace) -> list[Message]:
    return list(
        Message.objects.filter(conversation__workspace=workspace, role=Message.Role.CUSTOMER)
    )


async def _until_a_query_waits_for_a_lock() -> None:
    async with await psycopg.AsyncConnection.connect(
        url_of_test_database(), autocommit=True
    ) as watcher:
        deadline = time.monotonic() + EXIT_WITHIN
        while time.monotonic() < deadline:
            waiting = await watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if (await waiting.fetchone())[0]:
                return
            await asyncio.sleep(0.05)
    pytest.fail("The question's store never reached the database")


async def _until_closed(port: int) -> None:
    deadline = time.monotonic() + EXIT_WITHIN
    while port_open(port):
        if time.monotonic() > deadline:
            pytest.fail("The server still listens after SIGTERM")
        await asyncio.sleep(0.05)
