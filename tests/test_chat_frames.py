"""The chat socket's feedback, ticket and rating frames are validated by forms: a bad frame
gets a clear notice, nothing is stored, and the chat goes on."""

import pytest

from assistant.common.threads import in_thread
from assistant.handoffs.transitions import handoff_claim, handoff_resolve
from assistant.models import Feedback, Handoff, Message
from tests.support.chat import visible_text
from tests.support.factories import MembershipFactory
from tests.test_handoffs import ASKS_FOR_PERSON, customer, the_handoff

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

ANSWER = "{answer}"  # stands for the id of the answer the customer got


@in_thread
def answer_id(workspace) -> int:
    return Message.objects.get(conversation__workspace=workspace, role=Message.Role.ASSISTANT).pk


@in_thread
def handoff_resolved(workspace) -> None:
    handoff = Handoff.objects.get(conversation__workspace=workspace)
    agent = MembershipFactory(workspace=workspace).user
    handoff_resolve(handoff=handoff_claim(handoff=handoff, agent=agent), agent=agent)


@pytest.mark.parametrize(
    ("fields", "notice"),
    [
        ({"rating": "up"}, "could not be found"),  # no message_id
        ({"message_id": [ANSWER], "rating": "up"}, "could not be found"),
        ({"message_id": "-1", "rating": "up"}, "could not be found"),
        ({"message_id": "9" * 30, "rating": "up"}, "could not be found"),
        ({"message_id": ANSWER}, "Choose thumbs up or thumbs down"),
        ({"message_id": ANSWER, "rating": "sideways"}, "Choose thumbs up or thumbs down"),
        ({"message_id": ANSWER, "rating": {"up": True}}, "Choose thumbs up or thumbs down"),
        ({"message_id": ANSWER, "rating": "down", "comment": "x" * 2001}, "under 2,000"),
        ({"message_id": ANSWER, "rating": "down", "comment": ["bad"]}, "could not be read"),
    ],
)
async def test_a_bad_feedback_frame_gets_a_notice_and_stores_nothing(
    demo_help_center, fields, notice
):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.ask("How do I return a bike?")
    answer = await answer_id(workspace)
    frame = {
        name: [answer] if value == [ANSWER] else answer if value == ANSWER else value
        for name, value in fields.items()
    }

    await chat.send({"type": "feedback", **frame})

    assert notice in visible_text(await chat.until('id="notice"'))
    assert not await in_thread(Feedback.objects.exists)()
    await chat.send({"type": "feedback", "message_id": answer, "rating": "up"})
    await chat.until("Thank you for your feedback")  # the chat goes on
    await chat.close()


@pytest.mark.parametrize(
    "email",
    [None, "", "not an address", ["sam@example.com"], "sam@" + "x" * 300 + ".com", 42],
)
async def test_a_bad_ticket_frame_gets_an_error_under_the_field_and_stores_nothing(
    demo_help_center, email
):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until('id="ticket-email"')  # no one is online

    await chat.send({"type": "ticket"} if email is None else {"type": "ticket", "email": email})

    error = visible_text(await chat.until('id="ticket-error"'))
    assert "doesn't look like an e-mail address" in error
    assert (await the_handoff(workspace)).customer_email == ""
    await chat.close()


@pytest.mark.parametrize("rating", [None, "0", "6", "9", "three", 2.5, [5], {"rating": 5}])
async def test_a_bad_rating_frame_gets_a_notice_and_stores_nothing(demo_help_center, rating):
    workspace = demo_help_center.workspace
    chat = await customer(workspace)
    await chat.send({"type": "ask", "message": ASKS_FOR_PERSON})
    await chat.until('id="ticket-email"')
    await handoff_resolved(workspace)
    await chat.until("How did we do?")

    await chat.send({"type": "csat"} if rating is None else {"type": "csat", "rating": rating})

    assert "Choose a rating from 1 to 5" in visible_text(await chat.until('id="notice"'))
    assert (await the_handoff(workspace)).csat is None
    await chat.send({"type": "csat", "rating": 4})
    await chat.until("Thank you for rating")
    assert (await the_handoff(workspace)).csat == 4
    await chat.close()
