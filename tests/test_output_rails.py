"""Output rail: a generated sentence that its sources do not support never reaches the
customer; an answer with nothing supported left says it does not know."""

import pytest
from channels.db import database_sync_to_async

from assistant.answering.pipeline import DONT_KNOW_MESSAGE
from assistant.models import AuditEvent, Message
from bench.llm_server import Reply
from tests.support.chat import one_question

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

SUPPORTED = "Orders are packed within 1-2 business days [1]. "
INVENTED = "We also deliver by helicopter to any rooftop for free [1]. "


@database_sync_to_async
def answer_and_audit(workspace):
    reply = Message.objects.get(conversation__workspace=workspace, role=Message.Role.ASSISTANT)
    return reply, list(AuditEvent.objects.filter(kind=AuditEvent.Kind.GROUNDING).values("detail"))


async def ask_model(workspace, llm_server, pieces):
    llm_server.default = Reply(pieces=pieces)
    return await one_question(workspace.public_key, "How long does delivery to Canada take?")


async def test_unsupported_sentence_is_dropped_before_the_customer_sees_it(
    demo_help_center, llm_server
):
    workspace = demo_help_center.workspace
    answer = await ask_model(workspace, llm_server, [SUPPORTED, INVENTED])

    assert all("helicopter" not in frame for frame in answer.frames)
    reply, audits = await answer_and_audit(workspace)
    assert (reply.outcome, reply.text) == (Message.Outcome.ANSWERED, SUPPORTED.strip())
    assert audits == [
        {
            "detail": {
                "sentence": INVENTED.strip(),
                "rails": [{"rail": "grounding", "detail": "not supported by the sources it cites"}],
            }
        }
    ]


async def test_answer_with_nothing_supported_becomes_dont_know(demo_help_center, llm_server):
    workspace = demo_help_center.workspace
    answer = await ask_model(
        workspace, llm_server, [INVENTED, "Our CEO personally assembles every e-bike [2]."]
    )

    assert all("helicopter" not in frame and "CEO" not in frame for frame in answer.frames)
    reply, audits = await answer_and_audit(workspace)
    assert (reply.outcome, reply.text) == (Message.Outcome.DONT_KNOW, DONT_KNOW_MESSAGE)
    assert len(audits) == 2
