"""Requests and reports go to a person, questions for information stay with the assistant:
a how-to or what-if question near an escalation rule is answered, while the same need said
as a request, at length, angrily or formally in another language is handed over, and the
trace says which piece matched and how the message was read."""

import pytest

from assistant.common.threads import in_thread
from assistant.models import AuditEvent, Handoff, Message
from assistant.rails.pieces import message_pieces
from assistant.rails.request_reading import HYPOTHETICAL, INFORMATION, REQUEST, piece_readings
from assistant.widget.demo import DEMO_POLICY
from tests.support.chat import one_question
from tests.support.factories import PolicyVersionFactory
from tests.test_intents import _audits, handed_over


def _reply(workspace) -> Message:
    return Message.objects.get(conversation__workspace=workspace, role=Message.Role.ASSISTANT)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    "question",
    [
        "Suppose I wanted all my personal data erased one day, how would that work?",
        "If I ever wanted to close my account, could I keep my warranty?",
        "What should I do if my e-bike battery ever starts to swell?",
    ],
)
async def test_a_question_for_information_near_an_escalation_rule_is_answered(
    demo_help_center, question
):
    """The demo shop's own rules (a swelling battery) and the built-in ones (closure, a
    personal-data request) are written as what happened or what the customer wants done."""
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(
        workspace=workspace, escalation_rules=DEMO_POLICY["escalation_rules"]
    )

    answer = await one_question(workspace.public_key, question)

    assert answer.text
    assert not await in_thread(Handoff.objects.filter(conversation__workspace=workspace).exists)()
    reply = await in_thread(_reply)(workspace)
    assert reply.outcome != Message.Outcome.HANDED_OFF
    assert reply.trace["rails"]["input"]["reading"]["kind"] in (INFORMATION, HYPOTHETICAL)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    ("message", "rule"),
    [
        (
            "I have written to you four times about my broken gears. Every time I wait on "
            "hold for ages and nobody calls back. I am completely fed up.",
            "Upset",
        ),
        (
            "Hiermit verlange ich gemäß der Datenschutz-Grundverordnung eine Kopie aller "
            "personenbezogenen Daten, die Sie über mich gespeichert haben.",
            "Personal data request",
        ),
        (
            "You charged my card twice for the same helmet. Put the money back on my card.",
            "Billing dispute",
        ),
    ],
)
async def test_a_request_or_report_said_at_length_or_formally_is_handed_over(
    demo_help_center, message, rule
):
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(workspace=workspace)

    await handed_over(workspace, message)

    [flag] = await in_thread(_audits)(workspace, AuditEvent.Kind.ESCALATION_FLAG)
    assert flag["rule"] == rule
    assert flag["reading"] == REQUEST
    assert flag["piece"] in message


def test_each_sentence_is_read_and_a_report_makes_the_whole_message_a_request():
    """A what-if after a report does not hide the report; a how-to question reads the
    sentence that sets out its situation as part of the question."""
    reported = message_pieces(
        text="Someone has used my card on your site. What happens if they order again?"
    )
    asked = message_pieces(text="My chain makes a noise when I ride. Is that normal?")

    assert [reading.kind for reading in piece_readings(**_texts(reported))] == [
        REQUEST,
        REQUEST,
        HYPOTHETICAL,
    ]
    assert [reading.kind for reading in piece_readings(**_texts(asked))] == [INFORMATION] * 3


def _texts(pieces) -> dict:
    return {"texts": pieces.texts, "vectors": pieces.vectors}
