"""The handoff's partials and their contexts: what the customer sees of it, and the agent
console's pieces. The console's HTTP views render the same templates with the same
contexts, and `events` pushes them over the sockets after each change."""

from django.template.loader import render_to_string

from assistant.common.languages import customer_language
from assistant.conversations.console_rows import waiting_rows
from assistant.conversations.selectors import (
    agents_online,
    conversation_citations,
    conversation_messages,
    conversation_notes,
    customer_questions_recent,
    expected_wait_minutes,
    handoff_latest,
    handoff_open,
    queue_in_progress,
    queue_position,
)
from assistant.models import Conversation


def customer_status_context(*, conversation: Conversation) -> dict:
    """Where the customer stands: with the assistant, in the queue (position and wait, or
    no one online: leave an e-mail), with a person, or resolved (rate the help); in the
    language the customer writes in, as the assistant's fixed replies are."""
    handoff = handoff_latest(conversation_id=conversation.pk)
    questions = customer_questions_recent(conversation_id=conversation.pk)
    context = {
        "conversation": conversation,
        "handoff": handoff,
        "language": customer_language(questions=questions) if questions else "",
    }
    if conversation.state == Conversation.State.WAITING and handoff is not None:
        agents = len(agents_online(workspace_id=conversation.workspace_id))
        position = queue_position(handoff=handoff)
        context |= {
            "agents_online": agents,
            "position": position,
            "wait_minutes": expected_wait_minutes(
                workspace_id=conversation.workspace_id, position=position, agents=agents
            ),
        }
    return context


def customer_status_html(*, conversation_id: int) -> str:
    conversation = Conversation.objects.select_related("workspace").get(pk=conversation_id)
    return render_to_string(
        "widget/_status.html", {**customer_status_context(conversation=conversation), "oob": True}
    )


def queue_context(*, workspace_id: int) -> dict:
    return {
        "waiting": waiting_rows(workspace_id=workspace_id),
        "in_progress": list(queue_in_progress(workspace_id=workspace_id)),
        "online": agents_online(workspace_id=workspace_id),
    }


def queue_html(*, workspace_id: int) -> str:
    return render_to_string(
        "console/_queue.html", {**queue_context(workspace_id=workspace_id), "oob": True}
    )


PASSAGES_IN_PACKET = 4


def conversation_status_context(*, conversation: Conversation) -> dict:
    """The handoff packet and the actions the conversation's state allows."""
    return {
        "conversation": conversation,
        "handoff": handoff_open(conversation_id=conversation.pk)
        or handoff_latest(conversation_id=conversation.pk),
        "passages": conversation_citations(conversation_id=conversation.pk)[:PASSAGES_IN_PACKET],
    }


def conversation_status_html(*, conversation_id: int) -> str:
    """The actions in the thread and the handoff packet beside it."""
    conversation = Conversation.objects.select_related("workspace").get(pk=conversation_id)
    return render_to_string(
        "console/_state.html",
        {**conversation_status_context(conversation=conversation), "oob": True},
    )


def transcript_and_status_html(*, conversation_id: int) -> str:
    """The whole conversation view again, for a console that lost its socket for a while."""
    return render_to_string(
        "console/_transcript.html",
        {"transcript": conversation_messages(conversation_id=conversation_id), "oob": True},
    ) + conversation_status_html(conversation_id=conversation_id)


def notes_html(*, conversation_id: int) -> str:
    conversation = Conversation.objects.select_related("workspace").get(pk=conversation_id)
    return render_to_string(
        "console/_notes.html",
        {
            "conversation": conversation,
            "notes": conversation_notes(conversation_id=conversation_id),
            "oob": True,
        },
    )
