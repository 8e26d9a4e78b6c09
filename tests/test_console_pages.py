"""The agent console's pages, read over HTTP as staff see them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.conversations.selectors import expected_wait_minutes
from assistant.models import Conversation, Membership
from tests.support.chat import visible_text
from tests.support.factories import (
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

    # The list beside it says what the customer needs in their words: the thread is what
    # must not repeat.
    text = visible_text(page[page.index('<ol id="transcript"') :])
    for said in ("Where is my order TC-104582?", "It left our warehouse", "I want a person."):
        assert text.count(said) == 1
    assert "Asked for a person: Where is my order TC-104582?" in visible_text(page)


def test_sandbox_handoffs_are_in_no_queue_count_or_wait(agent_client, knowledge_base):
    """Even one left open (stored before sandboxes stopped opening them): nobody waits."""
    workspace = knowledge_base.workspace
    for sandbox in (True, False):
        waiting = ConversationFactory(
            workspace=workspace, sandbox=sandbox, state=Conversation.State.WAITING
        )
        HandoffFactory(conversation=waiting, summary=f"sandbox={sandbox}")
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    for sandbox, wait in ((False, timedelta(minutes=1.5)), (True, timedelta(hours=5))):
        HandoffFactory(
            conversation=ConversationFactory(
                workspace=workspace, sandbox=sandbox, state=Conversation.State.AGENT
            ),
            claimed_by=agent,
            claimed_at=timezone.now() + wait,
            summary=f"taken, sandbox={sandbox}",
        )

    page = agent_client.get(reverse("console", args=[workspace.slug])).content.decode()

    assert "Waiting 1" in visible_text(page)
    assert "sandbox=False" in page and "sandbox=True" not in page
    # The customer's wait is reckoned from customers' handoffs only (1.5 minutes, not 5 h).
    assert expected_wait_minutes(workspace_id=workspace.pk, position=1, agents=1) == 2


def test_an_agent_lands_in_the_console_and_is_shown_only_its_pages(agent_client, knowledge_base):
    workspace = knowledge_base.workspace
    response = agent_client.get(reverse("home"), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("console", args=[workspace.slug])
    page = response.content.decode()
    for admin_page in ("knowledge_bases", "policy", "evaluation", "analytics", "audit_log"):
        assert reverse(admin_page, args=[workspace.slug]) not in page


def test_a_refusal_is_a_page_of_keels_and_a_fragment_for_htmx(agent_client, knowledge_base):
    """With Keel's look (and icon) in a browser; only the reason where htmx asked."""
    policy = reverse("policy", args=[knowledge_base.workspace.slug])
    page = agent_client.get(policy)
    fragment = agent_client.get(policy, headers={"HX-Request": "true"})

    assert page.status_code == fragment.status_code == 403
    assert "favicon.svg" in page.content.decode()
    assert "does not allow this page" in visible_text(page.content.decode())
    assert "<html" not in fragment.content.decode()
    assert "does not allow this page" in visible_text(fragment.content.decode())
