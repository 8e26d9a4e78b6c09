"""Handing a conversation to a person: every trigger through the real pipeline, the queue,
the claim, the live reply, hand back and resolve, seen from the customer's socket and the
agent's console socket at once."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import translation

from assistant.answering import pipeline
from assistant.common.threads import in_thread
from assistant.handoffs.transitions import IllegalTransition, handoff_claim
from assistant.models import AuditEvent, Conversation, EvalCase, Handoff, Membership, Message
from tests.support.chat import FRAME_TIMEOUT, AgentClient, ChatClient, visible_text
from tests.support.factories import MembershipFactory, PolicyVersionFactory, WorkspaceFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

NO_ONE_ONLINE = (
    "No one from our team is online right now. Leave your e-mail address so a person can "
    "contact you when they are back:"
)
ASKS_FOR_PERSON = "I want to talk to a real person. Not a bot. A person."


async def customer(workspace) -> ChatClient:
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    return chat


@in_thread
def staff(workspace, role=Membership.Role.AGENT) -> tuple[Membership, str]:
    """A staff member of `workspace` and their session key, as if signed in."""
    membership = MembershipFactory(workspace=workspace, role=role)
    client = Client()
    client.force_login(membership.user)
    return membership, client.cookies["sessionid"].value


async def agent_online(workspace) -> tuple[Membership, AgentClient, AsyncClient]:
    membership, session_key = await staff(workspace)
    socket = AgentClient(workspace.slug, session_key=session_key)
    connected, _ = await socket.connect()
    assert connected
    await socket.until("Online:")  # its own arrival, pushed to the queue
    http = AsyncClient()
    http.cookies["sessionid"] = session_key
    return membership, socket, http


@in_thread
def the_handoff(workspace) -> Handoff:
    return Handoff.objects.select_related("conversation__workspace", "claimed_by").get(
        conversation__workspace=workspace
    )


@in_thread
def messages(workspace) -> list[Message]:
    return list(Message.objects.filter(conversation__workspace=workspace).order_by("pk"))


def action_url(name: str, handoff: Handoff) -> str:
    return reverse(name, args=[handoff.conversation.workspace.slug, handoff.conversation_id])


@pytest.mark.parametrize(
    ("message", "reason", "detail"),
    [
        (ASKS_FOR_PERSON, Handoff.Reason.ASKED, ""),
        ("Quero falar com um atendente humano agora, por favor.", Handoff.Reason.ASKED, ""),
        (
            "My lawyer will be contacting you. Your battery damaged my garage and I will sue.",
            Handoff.Reason.POLICY_RULE,
            "Legal threat",
        ),
        (
            "MY BIKE HAS BEEN IN TRANSIT FOR FIVE WEEKS AND NOBODY ANSWERS MY EMAILS",
            Handoff.Reason.ANGRY,
            "",
        ),
    ],
)
async def test_a_message_that_needs_a_person_goes_to_the_queue_and_the_bot_stays_silent(
    demo_help_center, message, reason, detail
):
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(workspace=workspace)
    chat = await customer(workspace)

    await chat.send({"type": "ask", "message": message})
    # No one is online: the customer is asked for an e-mail address.
    status = await chat.until('id="ticket-email"')

    handoff = await the_handoff(workspace)
    with translation.override(handoff.language):  # said in the customer's language
        assert translation.gettext(NO_ONE_ONLINE) in visible_text(status)
    assert (handoff.reason, handoff.reason_detail) == (reason, detail)
    assert handoff.conversation.state == Conversation.State.WAITING
    stored = await messages(workspace)
    assert [m.role for m in stored] == [Message.Role.CUSTOMER, Message.Role.ASSISTANT]
    assert stored[1].outcome == Message.Outcome.HANDED_OFF
    assert handoff.summary and handoff.language
    await chat.close()


async def test_with_a_person_on_it_a_new_plea_is_stored_and_starts_no_second_handoff(
    demo_help_center,
):
    """Once the conversation waits for a person, the assistant decides nothing more."""
    workspace = demo_help_center.workspace
    conversation = await in_thread(Conversation.objects.create)(workspace=workspace)
    assert await pipeline.answer(conversation=conversation, text=ASKS_FOR_PERSON) is None

    upset = "MY BIKE HAS BEEN IN TRANSIT FOR FIVE WEEKS AND NOBODY ANSWERS MY EMAILS"
    assert await pipeline.answer(conversation=conversation, text=upset) is None

    stored = await messages(workspace)
    assert [m.role for m in stored] == [
        Message.Role.CUSTOMER,
        Message.Role.ASSISTANT,  # "passing you to a person"
        Message.Role.CUSTOMER,
    ]
    assert stored[2].text == upset
    assert await in_thread(Handoff.objects.filter(conversation=conversation).count)() == 1


async def test_the_same_question_after_two_unhelpful_answers_goes_to_a_person(
    demo_help_center,
):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    for question in ["Do you sell skateboards?", "Can I buy a skateboard from you?"]:
        answer = await chat.ask(question)
        assert "couldn't find the answer" in answer.text

    await chat.send({"type": "ask", "message": "Do you sell any skateboards at all?"})
    await chat.until('id="ticket-email"')

    handoff = await the_handoff(workspace)
    assert handoff.reason == Handoff.Reason.LOOP
    await chat.close()


async def test_after_a_dont_know_the_button_accepts_the_offer_of_a_person(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    answer = await chat.ask("Do you sell skateboards?")
    assert "talk to a person" in answer.text

    await chat.send({"type": "handoff"})
    await chat.until('id="ticket-email"')

    handoff = await the_handoff(workspace)
    assert handoff.reason == Handoff.Reason.LOW_CONFIDENCE
    await chat.send({"type": "handoff"})
    assert "already waiting" in visible_text(await chat.until("already waiting"))
    await chat.close()


async def test_with_no_one_online_the_conversation_becomes_an_email_ticket(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until('id="ticket-email"')

    await chat.send({"type": "ticket", "email": "not an address"})
    assert "doesn't look like an e-mail" in visible_text(await chat.until("e-mail address"))
    await chat.send({"type": "ticket", "email": "sam@example.com"})
    status = await chat.until("can contact you at")

    assert "sam@example.com" in visible_text(status)
    handoff = await the_handoff(workspace)
    assert handoff.customer_email == "sam@example.com"
    await chat.close()


async def test_round_trip_queue_claim_reply_hand_back(demo_help_center):
    workspace = demo_help_center.workspace
    agent, console, http = await agent_online(workspace)
    chat = await customer(workspace)

    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    status = await chat.until("in the queue")
    assert "You're number 1 in the queue" in visible_text(status)
    queue = await console.until("Asked for a person")
    # Who is waiting and what they need, in one line each.
    assert 'data-waiting="1"' in queue and "Visitor " in visible_text(queue)
    assert f"Asked for a person: {ASKS_FOR_PERSON}" in visible_text(queue)

    handoff = await the_handoff(workspace)
    await console.send({"type": "watch", "conversation_id": str(handoff.conversation_id)})
    response = await http.post(action_url("console_claim", handoff))
    assert response.status_code == 200 and "With a person" in response.content.decode()
    status = await chat.until("is with you")
    # The agent gave no name: the customer reads a person, never their login.
    assert "A person from our team is with you" in visible_text(status)
    assert 'data-placeholder="Write to our team…"' in status

    await console.send({"type": "typing"})
    assert "Support team is typing" in visible_text(await chat.until("is typing"))
    await http.post(action_url("console_reply", handoff), {"text": "Hi, I'm here. How can I help?"})
    reply = await chat.until("How can I help?")
    assert 'class="message message--agent"' in reply
    # The message the typing line announced clears it, in the same frame.
    assert '<div id="typing" class="chat__typing" aria-live="polite" hx-swap-oob="true"></div>' in (
        reply
    )
    assert "Support team" in visible_text(reply)
    assert agent.user.username not in reply + status

    # While the person has it, the customer's messages reach them and the bot is silent.
    await chat.send({"type": "ask", "message": "My order TC-104582 never arrived."})
    assert "never arrived" in visible_text(await console.until("never arrived"))
    await console.until('id="queue"')  # and the lists follow (unread counts, needs)
    assert [m.role for m in await messages(workspace)][-1] == Message.Role.CUSTOMER

    await http.post(action_url("console_hand_back", handoff))
    await chat.until("Talk to a person")
    answer = await chat.ask("How long does delivery to Canada take?")
    assert "business days" in answer.text

    handoff = await the_handoff(workspace)
    assert handoff.claimed_by == agent.user and handoff.first_reply_at and handoff.closed_at
    transitions = await in_thread(
        lambda: list(
            AuditEvent.objects.filter(kind=AuditEvent.Kind.HANDOFF)
            .order_by("pk")
            .values_list("detail__to", flat=True)
        )
    )()
    assert transitions == ["waiting", "agent", "bot"]
    await chat.close()
    await console.close()


async def test_resolve_then_the_customer_rates_the_help(demo_help_center):
    workspace = demo_help_center.workspace
    _, console, http = await agent_online(workspace)
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until("in the queue")
    handoff = await the_handoff(workspace)
    await http.post(action_url("console_claim", handoff))

    await http.post(action_url("console_resolve", handoff))
    await chat.until("How did we do?")
    await chat.send({"type": "csat", "rating": "9"})
    await chat.until("from 1 to 5")
    await chat.send({"type": "csat", "rating": "5"})
    await chat.until("Thank you for rating")

    assert (await the_handoff(workspace)).csat == 5
    response = await http.post(action_url("console_resolve", handoff))
    assert "No one asked for a person here." in response.content.decode()  # refused
    await chat.close()
    await console.close()


async def test_two_agents_claiming_at_once_one_wins(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until('id="ticket-email"')
    handoff = await the_handoff(workspace)
    first, _ = await staff(workspace)
    second, _ = await staff(workspace)
    results = {}
    start = threading.Barrier(2)

    def claim_as(membership):
        start.wait()
        try:
            handoff_claim(handoff=handoff, agent=membership.user)
            results[membership.user.username] = "won"
        except IllegalTransition as refusal:
            results[membership.user.username] = str(refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim_as, args=(m,)) for m in (first, second)]
    await asyncio.to_thread(lambda: [t.start() for t in threads] and [t.join() for t in threads])

    assert sorted(results.values())[-1] == "won"
    loser = next(text for text in results.values() if text != "won")
    assert "has already taken this conversation" in loser
    assert (await the_handoff(workspace)).claimed_by_id in {first.user.pk, second.user.pk}
    await chat.close()


async def test_agents_of_another_workspace_reach_nothing(demo_help_center):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until('id="ticket-email"')
    handoff = await the_handoff(workspace)
    other = await in_thread(WorkspaceFactory)()
    _, session_key = await staff(other)
    http = AsyncClient()
    http.cookies["sessionid"] = session_key

    for name in ["console_conversation"]:
        assert (await http.get(action_url(name, handoff))).status_code == 404
    for name in ["console_claim", "console_reply", "console_resolve", "console_vault"]:
        assert (await http.post(action_url(name, handoff), {"text": "hi"})).status_code == 404
    own_console = reverse("console", args=[other.slug])
    page = visible_text((await http.get(own_console)).content.decode())
    assert "No one is waiting." in page and f"Conversation {handoff.conversation_id}" not in page

    # Their socket cannot open this workspace's console, nor watch its conversation.
    foreign = AgentClient(workspace.slug, session_key=session_key)
    connected, code = await foreign.connect()
    assert (connected, code) == (False, 4403)
    socket = AgentClient(other.slug, session_key=session_key)
    assert (await socket.connect())[0]
    await socket.until("Online:")
    await socket.send({"type": "watch", "conversation_id": str(handoff.conversation_id)})
    await chat.send({"type": "ask", "message": "Is anyone there?"})
    await chat.until("Is anyone there?")
    assert await socket.nothing_more()

    # Anonymous visitors are sent to the login page; a bad session gets no socket.
    anonymous = AsyncClient()
    response = await anonymous.get(reverse("console", args=[workspace.slug]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    nobody = AgentClient(workspace.slug, session_key="forged")
    assert (await nobody.connect())[0] is False
    # A console socket from another site's page is refused even with a valid session.
    cross_site = AgentClient(other.slug, session_key=session_key, origin="https://evil.example")
    assert (await cross_site.connect())[0] is False
    await socket.close()
    await chat.close()


async def test_only_the_agent_handling_it_reads_the_vault_and_each_reading_is_audited(
    demo_help_center,
):
    workspace = demo_help_center.workspace
    agent, console, http = await agent_online(workspace)
    _, colleague_session = await staff(workspace)
    chat = await customer(workspace)
    await chat.ask("Can I pay for an order with my card 4111 1111 1111 1111?")
    await chat.ask("How long does delivery to Canada take?")
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until("in the queue")
    handoff = await the_handoff(workspace)
    await http.post(action_url("console_claim", handoff))

    colleague_http = AsyncClient()
    colleague_http.cookies["sessionid"] = colleague_session
    refused = await colleague_http.post(action_url("console_vault", handoff))
    shown = await http.post(action_url("console_vault", handoff))

    assert "4111" not in refused.content.decode()
    assert "[CARD_1]" in shown.content.decode() and "4111 1111 1111 1111" in shown.content.decode()
    reads = await in_thread(
        lambda: list(AuditEvent.objects.filter(kind=AuditEvent.Kind.VAULT_READ).values("actor"))
    )()
    assert reads == [{"actor": agent.user.pk}]
    page = (await http.get(action_url("console_conversation", handoff))).content.decode()
    assert "4111" not in page  # the transcript keeps the placeholder
    packet = page.split('id="packet"')[1]
    assert "Sources the assistant used" in packet and "Shipping to Canada" in packet
    await chat.close()
    await console.close()


async def test_an_agent_saves_a_turn_as_a_test_case_in_one_click(demo_help_center):
    workspace = demo_help_center.workspace
    _, console, http = await agent_online(workspace)
    chat = await customer(workspace)
    await chat.ask("Do you ship to Canada?")
    await chat.ask("How long does delivery to Canada take?")
    question = (await messages(workspace))[2]
    url = reverse("console_save_case", args=[workspace.slug, question.conversation_id, question.pk])
    _, outsider_session = await staff(await in_thread(WorkspaceFactory)())
    outsider = AsyncClient()
    outsider.cookies["sessionid"] = outsider_session

    response = await http.post(url)

    assert "Saved as a test case" in response.content.decode()
    case = await in_thread(EvalCase.objects.get)(workspace=workspace)
    assert (case.question, case.expected) == ("How long does delivery to Canada take?", "answer")
    assert case.earlier_turns == ["Do you ship to Canada?"]  # the follow-up keeps its context
    assert "shipping-to-canada.html" in case.expected_documents
    assert (await outsider.post(url)).status_code == 404
    await chat.close()
    await console.close()


async def test_console_home_leads_staff_to_their_queue_and_strangers_to_login(demo_help_center):
    workspace = demo_help_center.workspace
    _, session_key = await staff(workspace)
    http = AsyncClient()
    http.cookies["sessionid"] = session_key

    response = await http.get(reverse("console_home"))
    assert response.url == reverse("console", args=[workspace.slug])
    anonymous = await AsyncClient().get(reverse("console_home"))
    assert anonymous.url.startswith(reverse("login")) and "next=/console/" in anonymous.url
    # The test client keeps the views' connection open (Django's test handler does not
    # close it), in the thread the views ran in.
    await sync_to_async(connections.close_all)()


async def test_only_the_agent_who_took_it_or_an_admin_hands_back_or_resolves(demo_help_center):
    workspace = demo_help_center.workspace
    _, console, http = await agent_online(workspace)
    _, colleague_session = await staff(workspace)
    _, admin_session = await staff(workspace, Membership.Role.ADMIN)
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until("in the queue")
    handoff = await the_handoff(workspace)
    await http.post(action_url("console_claim", handoff))
    colleague, admin = AsyncClient(), AsyncClient()
    colleague.cookies["sessionid"] = colleague_session
    admin.cookies["sessionid"] = admin_session

    for name in ["console_hand_back", "console_resolve"]:
        refused = await colleague.post(action_url(name, handoff))
        assert refused.status_code == 403
        assert "only they or an admin may hand it back or resolve it" in refused.content.decode()
    handoff = await the_handoff(workspace)
    assert handoff.closed_at is None and handoff.conversation.state == Conversation.State.AGENT

    resolved = await admin.post(action_url("console_resolve", handoff))
    assert resolved.status_code == 200
    assert (await the_handoff(workspace)).conversation.state == Conversation.State.RESOLVED
    await chat.close()
    await console.close()


async def closed_with(socket: AgentClient) -> tuple[int, str]:
    """The code the socket was closed with, and the last thing it was shown."""
    shown = ""
    while True:
        output = await socket.communicator.receive_output(timeout=FRAME_TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"], shown
        shown = output.get("text", "")


@pytest.mark.parametrize("change", ["removed", "role changed"])
async def test_a_member_removed_or_changed_loses_their_open_console_at_once(
    demo_help_center, change
):
    workspace = demo_help_center.workspace
    agent, console, _ = await agent_online(workspace)
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await console.until("Asked for a person")
    handoff = await the_handoff(workspace)
    await console.send({"type": "watch", "conversation_id": str(handoff.conversation_id)})

    if change == "removed":
        await in_thread(agent.delete)()
    else:
        agent.role = Membership.Role.ADMIN
        await in_thread(agent.save)()

    code, shown = await closed_with(console)
    assert code == 4403 and "Your access to this workspace changed" in visible_text(shown)
    await chat.send({"type": "ask", "message": "My order TC-104582 never arrived."})
    await chat.until("never arrived")
    assert await console.nothing_more()
    await chat.close()


async def test_a_console_frame_after_an_unannounced_removal_is_told_why_and_closed(
    demo_help_center,
):
    """A membership gone without its signal (deleted in SQL by an operator) is found on
    the next frame: the same notice, then 4403; an id int() refuses is no crash."""
    agent, console, _ = await agent_online(demo_help_center.workspace)
    await console.send({"type": "watch", "conversation_id": "²"})
    assert await console.nothing_more()

    def delete_in_sql():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM assistant_membership WHERE id = %s", [agent.pk])

    await in_thread(delete_in_sql)()
    await console.send({"type": "watch", "conversation_id": "1"})

    code, shown = await closed_with(console)
    assert code == 4403 and "Your access to this workspace changed" in visible_text(shown)
