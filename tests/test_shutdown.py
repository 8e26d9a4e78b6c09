"""A server told to stop (SIGTERM: every deploy, systemd, Docker, Kubernetes) stops, even
with a request thread still storing a customer's message, and what it stores is kept."""

import asyncio
import signal
import time

import psycopg
import pytest

from assistant.models import Message
from assistant.threads import LOOP_CHECK_SECONDS, in_thread
from tests.conftest import daphne_start, free_port, port_open, url_of_test_database, wait_for_port
from tests.factories import WorkspaceFactory
from tests.test_scale_out import customer_on

pytestmark = pytest.mark.asyncio

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
