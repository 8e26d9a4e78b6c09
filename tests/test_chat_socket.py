"""The customer's chat socket, end to end: real ASGI app, real database, real embeddings."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from assistant.models import Citation, Message
from assistant.pipeline import DONT_KNOW_MESSAGE
from tests.chat import ChatClient, visible_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]


@database_sync_to_async
def messages_of(workspace, role=None):
    messages = Message.objects.filter(conversation__workspace=workspace).order_by("pk")
    if role:
        messages = messages.filter(role=role)
    return list(messages)


@database_sync_to_async
def citations_of(message):
    return list(Citation.objects.filter(message=message).select_related("document"))


async def connected_client(workspace, **options) -> ChatClient:
    chat = ChatClient(workspace.public_key, **options)
    assert await chat.connect()
    await chat.hello()
    return chat


async def test_answer_streams_in_then_shows_numbered_citations(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    answer = await chat.ask("How long does delivery to Canada take?")

    assert len(answer.streamed_pieces) >= 5  # word by word, not all at once
    assert 'class="cite"' in answer.html
    [reply] = await messages_of(workspace, role=Message.Role.ASSISTANT)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert "business days" in reply.text
    assert reply.retrieval_ms is not None and reply.first_token_ms is not None
    assert reply.total_ms >= reply.first_token_ms
    citations = await citations_of(reply)
    assert [citation.marker for citation in citations] == list(range(1, len(citations) + 1))
    assert any("Canada" in citation.document_title for citation in citations)
    await chat.close()

    # The citation link opens the document with the cited passage highlighted.
    source_page = await database_sync_to_async(Client().get)(
        f"/widget/{workspace.public_key}/sources/{citations[0].public_id}/"
    )
    assert source_page.status_code == 200
    page = source_page.content.decode()
    assert '<mark id="cited"' in page
    assert citations[0].document_title in page


async def test_question_the_knowledge_base_cannot_answer_gets_dont_know(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    answer = await chat.ask("What is the capital of France?")

    assert "talk to a person" in answer.text
    [reply] = await messages_of(workspace, role=Message.Role.ASSISTANT)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert reply.text == DONT_KNOW_MESSAGE
    assert await citations_of(reply) == []
    await chat.close()


async def test_follow_up_question_is_searched_with_its_topic(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    await chat.ask("How much does shipping a bike cost in the US?")
    answer = await chat.ask("and to Canada?")

    first, follow_up = await messages_of(workspace, role=Message.Role.CUSTOMER)
    assert follow_up.search_query.startswith(first.text)
    assert "CA$" in answer.text  # Canadian prices, from the Canada article
    reply = (await messages_of(workspace, role=Message.Role.ASSISTANT))[-1]
    assert any("Canada" in citation.document_title for citation in await citations_of(reply))
    await chat.close()


async def test_reconnecting_shows_the_whole_history(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    answer = await chat.ask("How do I return a bike?")
    await chat.close()

    again = ChatClient(workspace.public_key)
    again.visitor_token = chat.visitor_token
    assert await again.connect()
    history = visible_text(await again.hello())

    assert "How do I return a bike?" in history
    assert answer.text.split(" [")[0][:40] in history
    await again.close()


async def test_answer_is_finished_and_stored_when_the_socket_drops_mid_stream(
    demo_help_center,
):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    await chat.send({"type": "ask", "message": "How do I return a bike?"})
    await chat.receive()  # the question is on screen
    await chat.close()

    for _ in range(600):
        replies = await messages_of(workspace, role=Message.Role.ASSISTANT)
        if replies and replies[0].outcome != Message.Outcome.STREAMING:
            break
        await asyncio.sleep(0.05)
    assert replies[0].outcome == Message.Outcome.ANSWERED

    again = ChatClient(workspace.public_key)
    again.visitor_token = chat.visitor_token
    assert await again.connect()
    assert "30 days" in visible_text(await again.hello())
    await again.close()
