"""Follow-up questions: searched with the earlier topic only when they depend on it, the
new words in place of the old; with an LLM, the model writes the search query (in the
knowledge base's language), and the offline rule stands in when it fails."""

import threading

import pytest
from channels.db import database_sync_to_async

from assistant.answering.followups import search_query_for
from assistant.models import Message
from bench.llm_server import Reply, first_source
from tests.support.chat import Answer, ChatClient, finished_answer, visible_text
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory

pytestmark = pytest.mark.usefixtures("chat_state")

PAGES = {
    "shipping-to-canada.md": """# Shipping to Canada

Orders to Canada leave our roastery within 2 business days and arrive in 4 to 7 business
days. Shipping to Canada costs CA$12, and it is free on orders over CA$90. Canadian
customs duties are included in the price.
""",
    "shipping-to-the-eu.md": """# Shipping to the European Union

Orders to the EU ship from our Rotterdam warehouse and arrive in 3 to 5 business days.
Shipping to EU countries costs 9 euros, and it is free on orders over 70 euros. VAT is
charged at checkout, so there is nothing to pay on delivery.
""",
    "shipping-in-the-us.md": """# Shipping in the United States

Orders within the US arrive in 2 to 3 business days by USPS Priority Mail. Shipping costs
$6, and it is free on orders over $50.
""",
    "gift-cards.md": """# Gift cards

We sell digital gift cards from $20 to $200. A gift card is e-mailed to the person you
choose on the date you choose, and it never expires.
""",
    "grinder-warranty.md": """# Grinder warranty

Every grinder we sell comes with a two-year warranty on the motor and the burrs. Burrs
worn down by normal use are covered for the first year only.
""",
    "subscriptions.md": """# Coffee subscriptions

A subscription delivers freshly roasted beans every two or four weeks. You can pause,
skip or cancel it at any time from your account page.
""",
}


def roastery_help_center(folder):
    """A coffee roaster's help center: shipping to three places, and other subjects."""
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def roastery(tmp_path, transactional_db):
    knowledge_base = KnowledgeBaseFactory(slug="help")
    ingest(roastery_help_center(tmp_path / "help"), knowledge_base)
    return knowledge_base


@database_sync_to_async
def searched(workspace) -> list[tuple[str, str, list[str]]]:
    """Each question's stored search query, its answer's traced one, and the documents
    the answer cites, in order."""
    questions = Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.CUSTOMER
    ).order_by("pk")
    answers = Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).order_by("pk")
    return [
        (
            question.search_query,
            answer.trace["search_query"],
            [citation.document_title for citation in answer.citations.all()],
        )
        for question, answer in zip(questions, answers, strict=True)
    ]


async def conversation(workspace, *questions: str) -> list[Answer]:
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    answers = [await chat.ask(question) for question in questions]
    await chat.close()
    return answers


@pytest.mark.asyncio
async def test_a_follow_up_is_searched_with_its_new_words_in_place_of_the_old(roastery):
    answers = await conversation(
        roastery.workspace, "How long does delivery to Canada take?", "and to the EU?"
    )

    (_, _, canada), (query, traced, cited) = await searched(roastery.workspace)
    assert canada[0] == "Shipping to Canada"
    assert query == traced == "How long does delivery to the EU take?"
    assert cited == ["Shipping to the European Union"]
    assert "3 to 5 business days" in answers[1].text


@pytest.mark.asyncio
@pytest.mark.parametrize("question", ["Do you offer subscriptions?", "Gift cards?"])
async def test_a_short_question_of_its_own_is_searched_alone(roastery, question):
    await conversation(roastery.workspace, "How long does delivery to Canada take?", question)

    _, (query, traced, cited) = await searched(roastery.workspace)
    assert query == traced == question
    assert "Shipping to Canada" not in cited


@pytest.mark.asyncio
async def test_a_question_that_points_back_is_searched_with_its_topic(roastery):
    answers = await conversation(roastery.workspace, "Do you sell gift cards?", "Do they expire?")

    _, (query, _, cited) = await searched(roastery.workspace)
    assert query == "Do you sell gift cards? \nDo they expire?"
    assert cited == ["Gift cards"]
    assert "never expires" in answers[1].text


def query_written(body: dict) -> bool:
    """Keel's request for a search query, rather than for an answer."""
    return body["messages"][0]["content"].startswith("You write search queries")


def model(*, query: Reply, answer: str | None = None):
    """The test model: `query` for a search query; an answer quoting source 1's first
    sentence (or `answer`), citing it."""

    def respond(body: dict) -> Reply:
        if query_written(body):
            return query
        return Reply(pieces=[answer or f"{first_source(body).split('.')[0].strip()}. [1]"])

    return respond


def query_requests(llm_server) -> list[dict]:
    return [request for request in llm_server.requests if query_written(request)]


@pytest.mark.asyncio
async def test_with_an_llm_the_model_writes_a_follow_ups_search_query(roastery, llm_server):
    written = "How long does shipping to the European Union take?"
    llm_server.respond = model(
        query=Reply(pieces=["How long does shipping ", "to the European Union take?"])
    )

    await conversation(
        roastery.workspace, "How long does delivery to Canada take?", "and what about Europe?"
    )

    _, (query, traced, cited) = await searched(roastery.workspace)
    assert query == traced == written
    assert cited == ["Shipping to the European Union"]
    # One call, for the follow-up only: a first question in English needs no rewriting.
    [request] = query_requests(llm_server)
    told = request["messages"][-1]["content"]
    assert "Customer: How long does delivery to Canada take?" in told
    assert told.endswith("LAST MESSAGE\nand what about Europe?")


@pytest.mark.asyncio
async def test_with_an_llm_a_question_in_another_language_is_searched_in_the_articles_one(
    roastery, llm_server
):
    spanish = "Los pedidos a Canadá llegan en 4 a 7 días hábiles [1]."
    llm_server.respond = model(
        query=Reply(pieces=["How long does delivery to Canada take?"]), answer=spanish
    )

    [answer] = await conversation(roastery.workspace, "¿Cuánto tarda el envío a Canadá?")

    [(query, traced, cited)] = await searched(roastery.workspace)
    assert query == traced == "How long does delivery to Canada take?"
    # The Spanish answer from the English page reaches the customer, cited: its figures
    # are the page's (the grounding rail's check across languages).
    assert "Los pedidos a Canadá llegan en 4 a 7 días hábiles" in visible_text(answer.html)
    assert cited == ["Shipping to Canada"]
    [written, answered] = llm_server.requests
    assert "written in English" in written["messages"][0]["content"]
    # The model answers the customer's own words, in their language, from the page found.
    assert "in the language of the customer's last message" in answered["messages"][0]["content"]
    assert first_source(answered).startswith("Orders to Canada")
    assert answered["messages"][-1]["content"] == "¿Cuánto tarda el envío a Canadá?"


@pytest.mark.asyncio
async def test_the_question_is_on_screen_while_the_model_writes_its_search_query(
    roastery, llm_server, settings
):
    # Both longer than the socket's frame timeout: the question waits for no model.
    settings.LLM_TIMEOUT_SECONDS = settings.LLM_REWRITE_TIMEOUT_SECONDS = 120
    written = "How long does delivery to Canada take?"
    released = threading.Event()
    answering = model(query=Reply(pieces=[written]), answer="De 4 a 7 días hábiles [1].")

    def respond(body: dict) -> Reply:
        if query_written(body):
            released.wait(timeout=120)  # held until the question has reached the customer
        return answering(body)

    llm_server.respond = respond
    chat = ChatClient(roastery.workspace.public_key)
    assert await chat.connect()
    await chat.hello()

    # A first question in another language than the articles': the model translates it.
    await chat.send({"type": "ask", "message": "¿Cuánto tarda el envío a Canadá?"})
    await chat.until("¿Cuánto tarda el envío a Canadá?")
    released.set()
    while not finished_answer(frame := await chat.receive()):
        pass
    await chat.close()

    assert "De 4 a 7 días hábiles" in visible_text(frame)
    [(query, traced, cited)] = await searched(roastery.workspace)
    assert query == traced == written  # kept on the question once written
    assert cited == ["Shipping to Canada"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "failure", [Reply(first_token_delay=10), Reply(status=500)], ids=["too slow", "error"]
)
async def test_when_the_model_cannot_write_the_query_the_rules_is_searched(
    roastery, llm_server, settings, caplog, failure
):
    settings.LLM_REWRITE_TIMEOUT_SECONDS = 0.5
    llm_server.respond = model(query=failure)

    answers = await conversation(
        roastery.workspace, "How long does delivery to Canada take?", "and to the EU?"
    )

    _, (query, _, cited) = await searched(roastery.workspace)
    assert query == "How long does delivery to the EU take?"
    assert cited == ["Shipping to the European Union"]
    assert "3 to 5 business days" in answers[1].text
    assert "did not write the search query" in caplog.text  # for whoever runs Keel


@pytest.mark.parametrize(
    ("topic", "follow_up", "searched_for"),
    [
        # The phrase after the same preposition, or a name alone for the topic's name.
        ("Can I pay with a credit card?", "and with PayPal?", "Can I pay with PayPal?"),
        (
            "How much does shipping cost in the US?",
            "and to Canada?",
            "How much does shipping cost in Canada?",
        ),
        # A name in a longer phrase may be of another kind: nothing is replaced.
        (
            "Do you ship to Canada?",
            "What about the Corvo grinder warranty?",
            "What about the Corvo grinder warranty?",
        ),
    ],
)
def test_a_follow_ups_words_take_the_place_of_those_they_stand_for(
    roastery, topic, follow_up, searched_for
):
    query = search_query_for(question=follow_up, previous_query=topic, knowledge_bases=[roastery])

    assert query == searched_for
