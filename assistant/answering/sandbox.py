"""A question asked in a fresh sandbox conversation: how checks and evaluations see what
the assistant does, without a customer's conversation."""

from collections.abc import Sequence

from assistant.answering import pipeline
from assistant.common.threads import in_thread
from assistant.conversations.selectors import assistant_message_latest
from assistant.models import Conversation, Message, PolicyVersion


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
