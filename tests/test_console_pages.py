"""The agent console's pages, read over HTTP as staff see them."""

import pytest
from django.urls import reverse

from assistant.models import Membership
from tests.chat import visible_text
from tests.factories import (
    AnswerFactory,
    ConversationFactory,
    HandoffFactory,
    MembershipFactory,
    MessageFactory,
)


@pytest.fixture
def agent_client(client, knowledge_base):
    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    return client


def test_the_conversation_page_shows_its_transcript_once(agent_client, knowledge_base):
    """Not again at the top as notices: the transcript is not Django's `messages`."""
    conversation = ConversationFactory(workspace=knowledge_base.workspace)
    MessageFactory(conversation=conversation, text="Where is my order TC-104582?")
    AnswerFactory(conversation=conversation, text="It left our warehouse on Monday.")
    MessageFactory(conversation=conversation, text="I want a person.")
    HandoffFactory(conversation=conversation)

    page = agent_client.get(
        reverse("console_conversation", args=[conversation.workspace.slug, conversation.pk])
    ).content.decode()

    text = visible_text(page)
    for said in ("Where is my order TC-104582?", "It left our warehouse", "I want a person."):
        assert text.count(said) == 1
