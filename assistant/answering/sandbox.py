"""Sandbox conversations, every one made here: a question asked in a fresh one is how
checks and evaluations see what the assistant does, without a customer's conversation;
a staff member's own sandbox chat is where they try the policy draft."""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from assistant.answering import pipeline
from assistant.common.threads import in_thread, on_event_loop
from assistant.conversations.selectors import assistant_message_latest, sandbox_conversation
from assistant.models import Conversation, Message, PolicyVersion, Workspace


async def sandbox_reply(
    *,
    workspace_id: int,
    text: str,
    label: str,
    pinned_policy: PolicyVersion | None = None,
    earlier_turns: Sequence[str] = (),
) -> Message:
    """The assistant's answer, or, when the question went to a person, the message that
    told the customer so. Unpinned, the sandbox follows the workspace's draft.

    Earlier turns are asked and answered first, so a follow-up is judged in its context."""
    conversation = await in_thread(Conversation.objects.create)(
        workspace_id=workspace_id, visitor_key=label, sandbox=True, pinned_policy=pinned_policy
    )
    for turn in earlier_turns:
        await pipeline.answer(conversation=conversation, text=turn)
    answer = await pipeline.answer(conversation=conversation, text=text)
    return answer or await in_thread(assistant_message_latest)(conversation_id=conversation.pk)


def sandbox_start(*, workspace: Workspace, user: AbstractBaseUser) -> Conversation:
    """A fresh sandbox chat for a staff member trying the policy draft."""
    return Conversation.objects.create(
        workspace=workspace, visitor_key=f"staff-{user.pk}", sandbox=True
    )


def sandbox_question_ask(*, workspace: Workspace, user: AbstractBaseUser, text: str) -> None:
    """The staff member's question, answered in their latest sandbox chat (a new one if
    they have none)."""
    conversation = sandbox_conversation(workspace=workspace, user=user) or sandbox_start(
        workspace=workspace, user=user
    )
    on_event_loop(pipeline.answer)(conversation=conversation, text=text)
