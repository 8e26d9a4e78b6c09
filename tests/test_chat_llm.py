"""Answers from an OpenAI-compatible server: the real `openai` client against a local
server speaking the same wire protocol, scripted per test (streams, failures)."""

import re

import pytest
from channels.db import database_sync_to_async

from assistant.answering.pipeline import DONT_KNOW_MESSAGE
from assistant.models import Citation, Message
from bench.llm_server import Reply
from tests.support.chat import one_question, visible_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

QUESTION = "How long does delivery to Canada take?"


@database_sync_to_async
def the_answer(workspace) -> tuple[Message, list[Citation]]:
    reply = Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).latest("pk")
    return reply, list(reply.citations.all())


async def ask(workspace, question: str = QUESTION):
    return await one_question(workspace.public_key, question)


async def test_streamed_answer_with_citations_from_the_model(demo_help_center, llm_server):
    llm_server.default = Reply(
        pieces=[
            "Orders are packed ",
            "within 1-2 business days [",
            "1",
            "]. Customs ",
            "clearance ",
            "usually adds 1-3 business days [1].",
        ]
    )

    answer = await ask(demo_help_center.workspace)

    reply, citations = await the_answer(demo_help_center.workspace)
    assert reply.outcome == Message.Outcome.ANSWERED
    assert reply.text == (
        "Orders are packed within 1-2 business days [1]. "
        "Customs clearance usually adds 1-3 business days [1]."
    )
    assert reply.backend == "openai-compatible:test-model"
    assert reply.generation_error == ""
    assert len(citations) == 1 and 'class="cite"' in answer.html
    # Streamed sentence by sentence, each checked against its source before it is shown.
    assert [visible_text(piece) for piece in answer.streamed_pieces] == [
        "Orders are packed within 1-2 business days [1].",
        "Customs clearance usually adds 1-3 business days [1].",
    ]
    # What the model was sent: streaming, the rules, and the sources as delimited data.
    [request] = llm_server.requests
    assert request["stream"] is True and request["model"] == "test-model"
    assert request["headers"]["authorization"] == "Bearer test-key"
    assert "Answer only from the numbered sources" in request["messages"][0]["content"]
    sources = request["messages"][-2]["content"]
    assert sources.startswith("SOURCES") and '<source id="1"' in sources
    assert request["messages"][-1] == {"role": "user", "content": QUESTION}


async def test_a_slow_model_that_keeps_writing_is_waited_for(
    demo_help_center, llm_server, settings
):
    """The timeout (3 s here) is for silence, not for the whole answer: a slow stream whose
    pieces keep coming, 3.5 s in all, is the model's answer, not a failure."""
    settings.LLM_TIMEOUT_SECONDS = 3  # a second and a half to spare on a busy machine
    llm_server.default = Reply(
        pieces=["Orders are packed ", "within 1-2 business ", "days [1]."],
        first_token_delay=1.5,
        token_delay=1.0,
    )

    answer = await ask(demo_help_center.workspace)

    reply, _ = await the_answer(demo_help_center.workspace)
    assert (reply.backend, reply.generation_error) == ("openai-compatible:test-model", "")
    assert "Orders are packed within 1-2 business days" in answer.text
    assert reply.total_ms >= 3500


async def test_invented_citation_is_never_shown_or_stored(demo_help_center, llm_server):
    llm_server.default = Reply(
        pieces=["Orders are packed within 1-2 business days [", "7", "] or so [1", "]."]
    )

    answer = await ask(demo_help_center.workspace)

    assert all("[7]" not in frame and ">7<" not in frame for frame in answer.frames)
    reply, citations = await the_answer(demo_help_center.workspace)
    assert reply.text == "Orders are packed within 1-2 business days or so [1]."
    assert [citation.marker for citation in citations] == [1]


async def test_model_that_does_not_know_gets_the_dont_know_reply(demo_help_center, llm_server):
    llm_server.default = Reply(pieces=["I don't ", "know."])

    await ask(demo_help_center.workspace)

    reply, citations = await the_answer(demo_help_center.workspace)
    assert (reply.outcome, reply.text, citations) == (
        Message.Outcome.DONT_KNOW,
        DONT_KNOW_MESSAGE,
        [],
    )


@pytest.mark.parametrize(
    ("reply", "recorded"),
    [
        (Reply(first_token_delay=4), "APITimeoutError"),
        (Reply(status=500), "InternalServerError"),
        (
            Reply(pieces=["Bikes ", "take ", "five ", "to ", "eight"], cut_after=2),
            "APIConnectionError",
        ),
        (Reply(pieces=[]), "empty answer"),
    ],
    ids=["timeout", "http-500", "stream-cut", "empty"],
)
async def test_model_failure_falls_back_to_the_extractive_answer(
    demo_help_center, llm_server, reply, recorded
):
    llm_server.default = reply

    answer = await ask(demo_help_center.workspace)

    reply_message, citations = await the_answer(demo_help_center.workspace)
    assert reply_message.outcome == Message.Outcome.ANSWERED
    assert reply_message.backend == "extractive"
    assert reply_message.generation_error.startswith("openai-compatible:test-model")
    assert recorded in reply_message.generation_error
    assert citations and "business days" in answer.text
    assert reply_message.total_ms < 2000 + 4000  # within the timeout, plus answering


async def test_stream_cut_midway_wipes_the_partial_answer_before_the_fallback(
    demo_help_center, llm_server
):
    llm_server.default = Reply(
        pieces=["Orders are packed within 1-2 business days [1]. ", "Customs ", "clearance"],
        cut_after=2,
    )

    answer = await ask(demo_help_center.workspace)

    wipe = next(i for i, frame in enumerate(answer.frames) if '-stream" hx-swap-oob' in frame)
    streamed_before_wipe = "".join(
        re.search(r">([^<]*)</span>", frame).group(1)
        for frame in answer.frames[:wipe]
        if "beforeend:#message-" in frame
    )
    assert streamed_before_wipe == "Orders are packed within 1-2 business days [1]. "
    reply, _ = await the_answer(demo_help_center.workspace)
    assert reply.backend == "extractive"  # what the customer keeps is the fallback's


async def test_model_markdown_is_rendered_and_its_html_is_not(demo_help_center, llm_server):
    llm_server.default = Reply(
        pieces=[
            "**Orders are packed** within 1-2 business days <img src=x onerror=alert(1)> ",
            "[1]. ",
            "[link](javascript:alert(1))",
        ]
    )

    answer = await ask(demo_help_center.workspace)

    assert "<strong>Orders are packed</strong>" in answer.html
    assert "<img" not in answer.html and "&lt;img" in answer.html
    assert 'href="javascript:' not in answer.html
    assert all("<img" not in frame for frame in answer.frames)  # nor while streaming
