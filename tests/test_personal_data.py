"""Personal data customers write: redacted before anything stores, searches or generates
with it, sealed in the vault, audited, purged when its time is up."""

import re
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from assistant.conversations.services import transcripts_expired_purge, vault_expired_purge
from assistant.conversations.vault import vault_open
from assistant.models import AuditEvent, Conversation, Feedback, Message, VaultEntry
from bench.llm_server import Reply
from tests.support.chat import Answer, ChatClient, one_question, visible_text
from tests.support.factories import PolicyVersionFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]

CARD, EMAIL, IBAN = "4111 1111 1111 1111", "jane.doe@example.com", "DE89 3704 0044 0532 0130 00"
QUESTION = f"My card {CARD} was charged twice, mail me at {EMAIL} or refund to {IBAN}."


@database_sync_to_async
def stored_state(workspace):
    question = Message.objects.get(conversation__workspace=workspace, role=Message.Role.CUSTOMER)
    vault = {
        entry.placeholder: vault_open(entry.sealed_value) for entry in question.vault_entries.all()
    }
    events = list(
        AuditEvent.objects.filter(workspace=workspace, kind=AuditEvent.Kind.REDACTION).values(
            "kind", "detail"
        )
    )
    return question, vault, events


@database_sync_to_async
def database_mentions(value: str) -> list[str]:
    """Every table and text column of Keel's own that holds `value` anywhere."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb') "
            "AND (table_name LIKE 'assistant_%%' OR table_name LIKE 'knowledge_%%')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1', [f"%{value}%"]
            )
            if cursor.fetchone():
                hits.append(f"{table}.{column}")
    return hits


async def test_card_email_and_iban_are_redacted_sealed_and_audited(demo_help_center, llm_server):
    workspace = demo_help_center.workspace
    llm_server.default = Reply(pieces=["Refunds take 5-10 business days [1]."])

    answer = await one_question(workspace.public_key, QUESTION)

    sent_to_model = str(llm_server.requests)

    question, vault, events = await stored_state(workspace)
    assert question.text == (
        "My card [CARD_1] was charged twice, mail me at [EMAIL_1] or refund to [IBAN_1]."
    )
    assert vault == {"[CARD_1]": CARD, "[EMAIL_1]": EMAIL, "[IBAN_1]": IBAN}
    assert events == [
        {
            "kind": "redaction",
            "detail": {
                "placeholders": ["[CARD_1]", "[EMAIL_1]", "[IBAN_1]"],
                "kinds": ["CARD", "EMAIL", "IBAN"],
            },
        }
    ]
    for value in (CARD, EMAIL, IBAN):
        assert await database_mentions(value) == []  # only sealed, nowhere in clear
        assert value not in sent_to_model
        assert all(value not in frame for frame in answer.frames)
    assert "[CARD_1]" in sent_to_model
    assert any("removed personal details" in visible_text(frame) for frame in answer.frames)


async def test_message_without_personal_data_is_stored_as_written(demo_help_center):
    workspace = demo_help_center.workspace
    answer = await one_question(
        workspace.public_key, "My order 48213 from 2024-05-01 hasn't arrived, 140 x 22 x 80 box"
    )

    question, vault, events = await stored_state(workspace)
    assert question.text == "My order 48213 from 2024-05-01 hasn't arrived, 140 x 22 x 80 box"
    assert (vault, events) == ({}, [])
    assert not any("removed personal details" in visible_text(f) for f in answer.frames)


async def test_vault_entries_are_deleted_after_the_retention_period(demo_help_center):
    workspace = demo_help_center.workspace
    await one_question(
        workspace.public_key, f"Please call me on +1 (555) 010-4477 about my card {CARD}"
    )

    assert await database_sync_to_async(vault_expired_purge)() == 0
    await database_sync_to_async(VaultEntry.objects.update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert await database_sync_to_async(vault_expired_purge)() == 2
    assert not await database_sync_to_async(VaultEntry.objects.exists)()


async def test_transcripts_are_deleted_after_the_policys_retention_period(demo_help_center):
    workspace = demo_help_center.workspace
    await database_sync_to_async(PolicyVersionFactory)(
        workspace=workspace, transcript_retention_days=30
    )
    await one_question(workspace.public_key, f"Refund to my card {CARD}, please")
    await one_question(workspace.public_key, "How long does delivery to Canada take?")
    old, recent = await database_sync_to_async(lambda: list(Conversation.objects.order_by("pk")))()
    await database_sync_to_async(Conversation.objects.filter(pk=old.pk).update)(
        last_message_at=timezone.now() - timedelta(days=31)
    )

    assert await database_sync_to_async(transcripts_expired_purge)() == 1

    remaining = await database_sync_to_async(lambda: list(Conversation.objects.all()))()
    assert remaining == [recent]
    assert not await database_sync_to_async(Message.objects.filter(conversation_id=old.pk).exists)()
    assert not await database_sync_to_async(VaultEntry.objects.exists)()
    # The record of what was redacted stays, detached from the deleted transcript.
    redaction = await database_sync_to_async(
        AuditEvent.objects.filter(kind=AuditEvent.Kind.REDACTION).get
    )()
    assert redaction.conversation_id is None and redaction.detail["kinds"] == ["CARD"]


@database_sync_to_async
def conversation_vault(workspace) -> dict[str, str]:
    return {
        entry.placeholder: vault_open(entry.sealed_value)
        for entry in VaultEntry.objects.filter(message__conversation__workspace=workspace)
    }


@database_sync_to_async
def customer_texts(workspace) -> list[str]:
    return list(
        Message.objects.filter(
            conversation__workspace=workspace, role=Message.Role.CUSTOMER
        ).values_list("text", flat=True)
    )


async def customer(workspace) -> ChatClient:
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    return chat


async def feedback_given(chat: ChatClient, answer: Answer, *, comment: str) -> Feedback:
    """A thumbs-down with `comment` on `answer`, as the widget sends it; what was stored."""
    await chat.send(
        {
            "type": "feedback",
            "message_id": re.search(r'id="message-(\d+)"', answer.html)[1],
            "rating": "down",
            "comment": comment,
        }
    )
    await chat.until("Thank you for your feedback.")
    await chat.close()
    return await database_sync_to_async(Feedback.objects.get)()


async def test_a_value_keeps_its_placeholder_for_the_whole_conversation(demo_help_center):
    workspace = demo_help_center.workspace
    other_card = "5555\u00a05555\u00a05555\u00a04444"  # no-break spaces, as some keyboards type
    chat = await customer(workspace)

    await chat.ask(f"Can I pay with my card {CARD}? Send the receipt to {EMAIL}.")
    await chat.ask(
        f"Use {other_card} instead of 4111111111111111, receipt still to Jane.Doe@example.com."
    )
    await chat.close()

    assert await customer_texts(workspace) == [
        "Can I pay with my card [CARD_1]? Send the receipt to [EMAIL_1].",
        "Use [CARD_2] instead of [CARD_1], receipt still to [EMAIL_1].",
    ]
    assert await conversation_vault(workspace) == {
        "[CARD_1]": CARD,
        "[EMAIL_1]": EMAIL,
        "[CARD_2]": other_card,
    }


async def test_a_feedback_comment_is_redacted_and_sealed_like_a_question(demo_help_center):
    workspace = demo_help_center.workspace
    phone = "+1 (415) 555-0142"
    chat = await customer(workspace)
    answer = await chat.ask(f"Was my card {CARD} charged for the delivery to Canada?")

    feedback = await feedback_given(
        chat, answer, comment=f"Not helpful. Call me on {phone} or {EMAIL} about card {CARD}."
    )
    assert feedback.comment == "Not helpful. Call me on [PHONE_1] or [EMAIL_1] about card [CARD_1]."
    assert await conversation_vault(workspace) == {
        "[CARD_1]": CARD,
        "[PHONE_1]": phone,
        "[EMAIL_1]": EMAIL,
    }
    for value in (phone, EMAIL, CARD):
        assert await database_mentions(value) == []
    redactions = await database_sync_to_async(
        lambda: list(
            AuditEvent.objects.filter(kind=AuditEvent.Kind.REDACTION)
            .order_by("pk")
            .values_list("message_id", "detail")
        )
    )()
    assert redactions[-1] == (
        feedback.message_id,
        {
            "placeholders": ["[PHONE_1]", "[EMAIL_1]", "[CARD_1]"],
            "kinds": ["CARD", "EMAIL", "PHONE"],
        },
    )


async def test_a_feedback_comment_follows_the_policys_personal_data_kinds(demo_help_center):
    workspace = demo_help_center.workspace
    await database_sync_to_async(PolicyVersionFactory)(
        workspace=workspace, personal_data_kinds=["CARD"]
    )
    chat = await customer(workspace)
    answer = await chat.ask("How long does delivery to Canada take?")

    feedback = await feedback_given(
        chat, answer, comment=f"Great, thanks! Card {CARD}, mail {EMAIL}"
    )
    assert feedback.comment == f"Great, thanks! Card [CARD_1], mail {EMAIL}"
