"""Feedback comments kept before Keel redacted them: `manage.py feedback_redact`."""

from io import StringIO

from django.core.management import call_command

from assistant.conversations.vault import vault_open
from assistant.models import Feedback, VaultEntry
from tests.support.factories import AnswerFactory, FeedbackFactory, VaultEntryFactory

CARD, EMAIL = "4111 1111 1111 1111", "jane.doe@example.com"


def test_feedback_redact_redacts_the_comments_stored_in_clear_before(db):
    """`manage.py feedback_redact`, once after upgrading: older comments were kept as written."""
    question = VaultEntryFactory(value=CARD).message
    answer = AnswerFactory(conversation=question.conversation)
    FeedbackFactory(message=answer, comment=f"Charged {CARD} twice! Mail {EMAIL}")
    FeedbackFactory(comment="Clear and quick, thanks.")
    out = StringIO()

    call_command("feedback_redact", stdout=out)
    call_command("feedback_redact", stdout=out)  # again: nothing more to do

    assert out.getvalue().splitlines() == [
        "Redacted 1 feedback comments that held personal data.",
        "Redacted 0 feedback comments that held personal data.",
    ]
    assert sorted(Feedback.objects.values_list("comment", flat=True)) == [
        "Charged [CARD_1] twice! Mail [EMAIL_1]",
        "Clear and quick, thanks.",
    ]
    assert {e.placeholder: vault_open(e.sealed_value) for e in VaultEntry.objects.all()} == {
        "[CARD_1]": CARD,
        "[EMAIL_1]": EMAIL,
    }
