"""The customer's chat socket, end to end: real ASGI app, real database, real embeddings."""

import asyncio
import re
import time
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core import signing
from django.test import Client

from assistant.answering.pipeline import DONT_KNOW_MESSAGE
from assistant.models import Citation, Conversation, Feedback, Message
from assistant.widget.visitors import VISITOR_SALT
from tests.support.chat import ChatClient, finished_answer, visible_text

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

    # Sentence by sentence, each checked by the output rails before it is sent.
    assert len(answer.streamed_pieces) >= 2
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

    # About the shop, but nothing its help center says (a general-knowledge question is
    # refused instead: not a support question).
    answer = await chat.ask("Do you sell surfboards?")

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

    _, follow_up = await messages_of(workspace, role=Message.Role.CUSTOMER)
    assert follow_up.search_query == "How much does shipping a bike cost in Canada?"
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


async def test_socket_from_a_site_the_workspace_does_not_allow_is_refused(demo_help_center):
    workspace = demo_help_center.workspace

    stranger = ChatClient(workspace.public_key, origin="https://evil.example")
    assert not await stranger.connect()

    # The panel's socket comes from Keel itself; the page around it must be allowed too.
    framed_elsewhere = ChatClient(workspace.public_key)
    assert await framed_elsewhere.connect()
    await framed_elsewhere.send({"type": "hello", "page_origin": "https://evil.example"})
    assert (await framed_elsewhere.communicator.receive_output(timeout=10))["type"] == (
        "websocket.close"
    )

    workspace.allowed_origins = ["https://www.trailhead-cycles.example"]
    await database_sync_to_async(workspace.save)()
    company_page = ChatClient(workspace.public_key, origin="https://www.trailhead-cycles.example")
    assert await company_page.connect()
    framed_on_company_site = await connected_client(workspace)
    await framed_on_company_site.send(
        {"type": "hello", "page_origin": "https://www.trailhead-cycles.example/help?x=1"}
    )
    assert 'id="session"' in await framed_on_company_site.receive()
    await company_page.close()
    await framed_on_company_site.close()


async def test_unknown_public_key_is_refused(demo_help_center):
    assert not await ChatClient("pk_no-such-key").connect()


async def test_chat_panel_may_only_be_framed_by_allowed_sites(demo_help_center):
    workspace = demo_help_center.workspace
    workspace.allowed_origins = ["https://www.trailhead-cycles.example"]
    await database_sync_to_async(workspace.save)()

    response = await database_sync_to_async(Client().get)(f"/widget/{workspace.public_key}/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.trailhead-cycles.example"
    )
    assert "X-Frame-Options" not in response


async def test_messages_beyond_the_rate_limit_are_refused_with_a_notice(demo_help_center, settings):
    settings.KEEL_RATE_LIMITS = {**settings.KEEL_RATE_LIMITS, "messages_per_visitor": "2/minute"}
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    await chat.ask("How do I return a bike?")
    await chat.ask("Do you ship to Canada?")
    await chat.send({"type": "ask", "message": "What are your store hours?"})
    notice = visible_text(await chat.receive())

    assert "faster than I can answer" in notice
    assert len(await messages_of(workspace, role=Message.Role.CUSTOMER)) == 2
    await chat.close()


async def test_a_new_hello_does_not_reset_the_sockets_message_limit(demo_help_center, settings):
    settings.KEEL_RATE_LIMITS = {
        **settings.KEEL_RATE_LIMITS,
        "messages_per_visitor": "2/minute",
        "messages_per_socket": "3/minute",
    }
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    await chat.ask("How do I return a bike?")
    await chat.ask("Do you ship to Canada?")

    chat.visitor_token = ""  # a hello without a token: a new visitor, on the same socket
    await chat.hello()
    await chat.ask("What are your store hours?")
    chat.visitor_token = ""
    await chat.hello()
    await chat.send({"type": "ask", "message": "How much is shipping?"})

    assert "faster than I can answer" in visible_text(await chat.receive())
    assert len(await messages_of(workspace, role=Message.Role.CUSTOMER)) == 3
    await chat.close()


async def test_an_office_of_a_hundred_customers_on_one_ip_is_not_refused(demo_help_center):
    """The default limits: a hundred customers behind one address each connect and ask."""
    workspace = demo_help_center.workspace
    office = [ChatClient(workspace.public_key, ip="192.0.2.80") for _ in range(100)]
    for customer in office:
        assert await customer.connect()
        await customer.hello()

    for customer in office:
        await customer.send({"type": "ask", "message": "Do you ship to Canada?"})
    for customer in office:
        while not finished_answer(await customer.receive()):
            pass

    assert len(await messages_of(workspace, role=Message.Role.CUSTOMER)) == 100
    for customer in office:
        await customer.close()


async def test_connections_beyond_the_per_ip_limit_are_refused(demo_help_center, settings):
    settings.KEEL_RATE_LIMITS = {**settings.KEEL_RATE_LIMITS, "connections_per_ip": "2/minute"}
    key = demo_help_center.workspace.public_key
    first, second = ChatClient(key, ip="198.51.100.7"), ChatClient(key, ip="198.51.100.7")
    assert await first.connect() and await second.connect()
    assert not await ChatClient(key, ip="198.51.100.7").connect()
    assert await ChatClient(key, ip="198.51.100.8").connect()  # another visitor is not affected
    await first.close()
    await second.close()


async def test_oversized_message_gets_a_clear_notice_and_is_not_stored(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    await chat.send({"type": "ask", "message": "x" * 20_000})
    notice = visible_text(await chat.receive())

    assert "20,000 characters" in notice and "4,000" in notice
    assert await messages_of(workspace) == []
    answer = await chat.ask("How do I return a bike?")  # the socket still works
    assert "30 days" in answer.text
    await chat.close()


@pytest.mark.parametrize(
    "frame",
    [
        "not json at all",
        "[1, 2, 3]",
        '{"type": "shout"}',
        '{"message": "no type"}',
        '{"type": "ask", "message": {"nested": true}}',
        '{"type": "feedback", "message_id": "abc", "rating": "up"}',
        '{"type": "feedback", "message_id": 999999, "rating": "up"}',
        '{"type": "feedback", "message_id": "\u00b2", "rating": "up"}',
        '{"type": ["ask"], "message": "unhashable type"}',
        # Nested far deeper than the parser recurses, well under the frame limit.
        '{"type": "ask", "message": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
async def test_malformed_frames_get_an_error_notice_and_the_chat_goes_on(demo_help_center, frame):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    await chat.send(frame)
    notice = await chat.receive()

    assert 'id="notice"' in notice and visible_text(notice)
    assert "30 days" in (await chat.ask("How do I return a bike?")).text
    await chat.close()


async def test_binary_frame_and_talking_before_hello_get_notices(demo_help_center):
    chat = ChatClient(demo_help_center.workspace.public_key)
    assert await chat.connect()
    await chat.communicator.send_to(bytes_data=b"\x00\xff")
    assert "could not be read" in visible_text(await chat.receive())
    await chat.send({"type": "ask", "message": "hello?"})
    assert "still connecting" in visible_text(await chat.receive())
    await chat.close()


async def test_another_workspaces_conversation_is_unreachable(demo_help_center):
    ours = demo_help_center.workspace
    chat = await connected_client(ours)
    await chat.ask("How do I return a bike?")
    [reply] = await messages_of(ours, role=Message.Role.ASSISTANT)
    await chat.close()

    other_workspace = await database_sync_to_async(
        lambda: type(ours).objects.create(name="Other shop", slug="other-shop")
    )()
    intruder = ChatClient(other_workspace.public_key)
    intruder.visitor_token = chat.visitor_token  # a visitor token from the first company
    assert await intruder.connect()
    history = visible_text(await intruder.hello())
    assert "return a bike" not in history

    await intruder.send(
        {"type": "feedback", "message_id": reply.pk, "rating": "down", "comment": "bad"}
    )
    assert "could not be found" in visible_text(await intruder.receive())
    assert not await database_sync_to_async(Feedback.objects.exists)()
    await intruder.close()


async def test_thumbs_and_comment_are_recorded_on_the_answer(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    await chat.ask("How do I return a bike?")
    [reply] = await messages_of(workspace, role=Message.Role.ASSISTANT)

    await chat.send({"type": "feedback", "message_id": reply.pk, "rating": "down"})
    frames = [await chat.receive(), await chat.receive()]
    assert any('value="down"' in f and 'aria-pressed="true"' in f for f in frames)
    await chat.send(
        {
            "type": "feedback",
            "message_id": str(reply.pk),
            "rating": "down",
            "comment": "I wanted the address",
        }
    )
    await chat.receive()
    await chat.receive()

    feedback = await database_sync_to_async(Feedback.objects.get)(message=reply)
    assert (feedback.rating, feedback.comment) == ("down", "I wanted the address")
    await chat.close()


async def test_signed_identity_follows_the_customer_and_unsigned_is_ignored(demo_help_center):
    from assistant.widget.visitors import identity_signature

    workspace = demo_help_center.workspace
    signature = identity_signature(secret=workspace.identity_secret, customer_id="cust-42")
    laptop = ChatClient(workspace.public_key)
    assert await laptop.connect()
    await laptop.hello(user_id="cust-42", user_hash=signature)
    await laptop.ask("How do I return a bike?")
    await laptop.close()

    phone = ChatClient(workspace.public_key)  # another device: another visitor token
    assert await phone.connect()
    assert "return a bike" in visible_text(
        await phone.hello(user_id="cust-42", user_hash=signature)
    )
    await phone.close()

    forger = ChatClient(workspace.public_key)
    assert await forger.connect()
    forged = visible_text(await forger.hello(user_id="cust-42", user_hash="0" * 64))
    assert "return a bike" not in forged
    unsigned = ChatClient(workspace.public_key)
    assert await unsigned.connect()
    assert "return a bike" not in visible_text(await unsigned.hello(user_id="cust-42"))
    [conversation] = await database_sync_to_async(list)(Conversation.objects.all())
    assert conversation.customer_id == "cust-42"
    await forger.close()
    await unsigned.close()


async def test_message_that_cannot_be_stored_gets_a_notice(demo_help_center):
    """The conversation was deleted (say, by a retention purge) while the panel was open."""
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    await chat.ask("How do I return a bike?")
    await database_sync_to_async(Conversation.objects.all().delete)()

    await chat.send({"type": "ask", "message": "Do you ship to Canada?"})
    unsent = await chat.until("could not be sent")

    assert "Do you ship to Canada?" in unsent  # put back in the box, to send again
    assert await messages_of(workspace) == []
    await chat.close()


async def test_question_sent_while_answering_is_answered_next_in_order(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)

    await chat.send({"type": "ask", "message": "How do I return a bike?"})
    await chat.send({"type": "ask", "message": "Do you ship to Canada?"})
    finished = 0
    while finished < 2:
        finished += finished_answer(await chat.receive())

    messages = await messages_of(workspace)
    assert [(m.role, m.outcome) for m in messages] == [
        (Message.Role.CUSTOMER, ""),
        (Message.Role.ASSISTANT, Message.Outcome.ANSWERED),
        (Message.Role.CUSTOMER, ""),
        (Message.Role.ASSISTANT, Message.Outcome.ANSWERED),
    ]
    assert "Canada" in messages[3].text
    await chat.close()


def visitor_token_signed_days_ago(token: str, days: int) -> str:
    """The same visitor's token, as Keel signed it `days` ago."""
    visitor_key = signing.loads(token, salt=VISITOR_SALT)

    class Earlier(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - days * 24 * 3600)

    return Earlier(salt=VISITOR_SALT).sign_object(visitor_key)


@pytest.mark.parametrize(("days", "kept"), [(89, True), (91, False)])
async def test_a_visitor_token_lasts_its_lifetime_and_each_hello_renews_it(
    demo_help_center, days, kept
):
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    await chat.ask("How do I return a bike?")
    await chat.close()

    again = ChatClient(workspace.public_key)
    again.visitor_token = visitor_token_signed_days_ago(chat.visitor_token, days)
    assert await again.connect()
    history = visible_text(await again.hello())

    assert ("How do I return a bike?" in history) is kept
    renewed = signing.loads(
        again.visitor_token, salt=VISITOR_SALT, max_age=timedelta(seconds=60)
    )  # signed just now
    assert (renewed == signing.loads(chat.visitor_token, salt=VISITOR_SALT)) is kept
    await again.close()


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("How do I return a bike?\x00", "How do I return a bike?"),
        ("How do I\r\n return a\x07 bike?", "How do I\n return a bike?"),
        ("How do I return a bike? \ud800", "How do I return a bike? \ufffd"),
    ],
)
async def test_control_characters_and_lone_surrogates_are_cleaned_and_answered(
    demo_help_center, sent, stored
):
    """PostgreSQL refuses NUL, spaCy (Presidio) and the database encoder lone surrogates."""
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace, ip="198.51.100.20")

    answer = await chat.ask(sent)

    assert "30 days" in answer.text
    [question] = await messages_of(workspace, role=Message.Role.CUSTOMER)
    assert question.text == stored
    [reply] = await messages_of(workspace, role=Message.Role.ASSISTANT)
    await chat.send(
        {"type": "feedback", "message_id": reply.pk, "rating": "down", "comment": "No\x00 \udc00"}
    )
    assert "Thank you" in visible_text(await chat.until("Thank you"))
    feedback = await database_sync_to_async(Feedback.objects.get)(message=reply)
    assert feedback.comment == "No \ufffd"
    assert "30 days" in (await chat.ask("How do I return a bike?")).text  # still open
    await chat.close()


async def test_a_signed_id_with_a_nul_is_cleaned_not_a_crash(demo_help_center):
    from assistant.widget.visitors import identity_signature

    workspace = demo_help_center.workspace
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    signed = identity_signature(secret=workspace.identity_secret, customer_id="cust\x00-1")

    session = await chat.hello(user_id="cust\x00-1", user_hash=signed, visitor="\udfff")

    assert 'id="session"' in session
    assert "30 days" in (await chat.ask("How do I return a bike?")).text
    await chat.close()


async def test_two_tabs_of_one_visitor_share_one_conversation(demo_help_center):
    """Both opened before the first question, both asking at once."""
    workspace = demo_help_center.workspace
    first = await connected_client(workspace)
    second = ChatClient(workspace.public_key)
    second.visitor_token = first.visitor_token
    assert await second.connect()
    await second.hello()

    await asyncio.gather(
        first.send({"type": "ask", "message": "How do I return a bike?"}),
        second.send({"type": "ask", "message": "Do you ship to Canada?"}),
    )

    for tab in (first, second):  # each tab shows both tabs' questions
        seen = ""
        while "return a bike" not in seen or "ship to Canada" not in seen:
            seen += visible_text(await tab.receive())
    assert await database_sync_to_async(Conversation.objects.count)() == 1
    for tab in (first, second):
        await tab.close()
    await until_answered(workspace, count=2)
    reloaded = ChatClient(workspace.public_key)
    reloaded.visitor_token = first.visitor_token
    assert await reloaded.connect()
    history = visible_text(await reloaded.hello())
    assert "return a bike" in history and "ship to Canada" in history
    await reloaded.close()


async def until_answered(workspace, *, count: int) -> list[Message]:
    """The workspace's answers, once `count` of them are finished."""
    for _ in range(1200):
        replies = await messages_of(workspace, role=Message.Role.ASSISTANT)
        finished = [reply for reply in replies if reply.outcome != Message.Outcome.STREAMING]
        if len(finished) >= count:
            return finished
        await asyncio.sleep(0.05)
    pytest.fail(f"{count} answers were not finished in time")


async def test_questions_sent_while_one_is_answered_are_stored_before_being_accepted(
    demo_help_center,
):
    """Each is kept (personal data redacted) before the widget is told to clear its box,
    and they are answered in the order sent."""
    workspace = demo_help_center.workspace
    chat = await connected_client(workspace)
    questions = [
        "How do I return a bike?",
        "Do you ship to Canada? Write to jo@example.com",
        "How long does delivery to Canada take?",
        "What are your store hours?",
    ]

    for number, question in enumerate(questions, start=1):
        await chat.send({"type": "ask", "message": question, "sent": number})
    accepted = []
    while len(accepted) < len(questions):
        frame = await chat.receive()
        if 'id="accepted"' in frame:
            accepted.append(re.search(r'data-sent="([^"]*)"', frame).group(1))
            stored = await messages_of(workspace, role=Message.Role.CUSTOMER)
            assert len(stored) >= len(accepted)  # kept before it was accepted

    assert accepted == ["1", "2", "3", "4"]
    kept = [*questions[:1], "Do you ship to Canada? Write to [EMAIL_1]", *questions[2:]]
    # All kept, redacted (in which rows depends on how far the answers got meanwhile).
    stored = await messages_of(workspace, role=Message.Role.CUSTOMER)
    assert sorted(message.text for message in stored) == sorted(kept)
    await until_answered(workspace, count=len(questions))
    # Each question moved down to its answer when its turn came: each answer follows its
    # own question, in the order sent, as any reader of the conversation expects.
    messages = await messages_of(workspace)
    assert [message.role for message in messages] == ["customer", "assistant"] * len(questions)
    pairs = list(zip(messages[::2], messages[1::2], strict=True))
    assert [question.text for question, _ in pairs] == kept
    assert all(answer.trace["search_query"] == question.search_query for question, answer in pairs)
    assert not any(question.queued for question, _ in pairs)
    await chat.close()
