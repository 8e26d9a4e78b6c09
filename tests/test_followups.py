"""Follow-up questions: searched with the earlier topic only when they depend on it, the
new words in place of the old; with an LLM, the model writes the search query (in the
knowledge base's language), and the offline rule stands in when it fails."""

import pytest
from channels.db import database_sync_to_async

from assistant.models import Message
from tests.chat import Answer, ChatClient
from tests.commands import ingest
from tests.factories import KnowledgeBaseFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

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


async def test_a_follow_up_is_searched_with_its_new_words_in_place_of_the_old(roastery):
    answers = await conversation(
        roastery.workspace, "How long does delivery to Canada take?", "and to the EU?"
    )

    (_, _, canada), (query, traced, cited) = await searched(roastery.workspace)
    assert canada[0] == "Shipping to Canada"
    assert query == traced == "How long does delivery to the EU take?"
    assert cited == ["Shipping to the European Union"]
    assert "3 to 5 business days" in answers[1].text


@pytest.mark.parametrize("question", ["Do you offer subscriptions?", "Gift cards?"])
async def test_a_short_question_of_its_own_is_searched_alone(roastery, question):
    await conversation(roastery.workspace, "How long does delivery to Canada take?", question)

    _, (query, traced, cited) = await searched(roastery.workspace)
    assert query == traced == question
    assert "Shipping to Canada" not in cited


async def test_a_question_that_points_back_is_searched_with_its_topic(roastery):
    answers = await conversation(roastery.workspace, "Do you sell gift cards?", "Do they expire?")

    _, (query, _, cited) = await searched(roastery.workspace)
    assert query == "Do you sell gift cards? \nDo they expire?"
    assert cited == ["Gift cards"]
    assert "never expires" in answers[1].text
