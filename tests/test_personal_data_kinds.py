"""Personal data beyond numbers with checksums: e-mails on any domain, a card's expiry and
security code, dates of birth, street addresses, names customers give; and the same
words in ordinary questions left alone."""

import json
import logging

import pytest
from django.urls import reverse

from assistant.evaluation import policy_checks
from assistant.models import PolicyCheck, PolicyVersion
from assistant.project.logs import record_json
from assistant.rails.personal_data import personal_data_redact
from tests.support.chat import one_question
from tests.test_personal_data import database_mentions, stored_state


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        # Any well-formed domain: a made-up top-level domain, a local one, a new gTLD.
        (
            "Write to mo.khan@shop.lan or lee@studio.photography, not mo@help.example.",
            "Write to [EMAIL_1] or [EMAIL_2], not [EMAIL_3].",
        ),
        (
            "Card 5555 5555 5555 4444, exp 09/28, CVV 731.",
            "Card [CARD_1], exp [CARD_EXPIRY_1], CVV [SECURITY_CODE_1].",
        ),
        (
            "It expires 04/2030 and the security code is 0815.",
            "It expires [CARD_EXPIRY_1] and the security code is [SECURITY_CODE_1].",
        ),
        ("CVC2: 552", "CVC2: [SECURITY_CODE_1]"),
        ("I was born 03/22/1985.", "I was born [BIRTH_DATE_1]."),
        ("DOB: 1985-03-22", "DOB: [BIRTH_DATE_1]"),
        ("date of birth 22 March 1985", "date of birth [BIRTH_DATE_1]"),
        ("My birthday is March 22nd, 1985.", "My birthday is [BIRTH_DATE_1]."),
        ("Geburtsdatum: 22.03.1985", "Geburtsdatum: [BIRTH_DATE_1]"),
        ("fecha de nacimiento: 22 de marzo de 1985", "fecha de nacimiento: [BIRTH_DATE_1]"),
        ("I live at 731 Maple Grove Avenue, Springfield, IL 62704.", "I live at [ADDRESS_1]."),
        ("Flat 2, 14 Elm Road, Leeds LS6 2AB", "[ADDRESS_1]"),
        ("Send it to 5 avenue des Lilas, 69003 Lyon", "Send it to [ADDRESS_1]"),
        ("Lindenstraße 12, 80331 München", "[ADDRESS_1]"),
        ("Via Garibaldi 7, 20121 Milano", "[ADDRESS_1]"),
        ("My postcode is M5V 2T6.", "My postcode is [ADDRESS_1]."),
        (
            "Hi, my name is Priya and my router blinks.",
            "Hi, my name is [NAME_1] and my router blinks.",
        ),
        ("This is Tomás Ferreira from Ferreira Bikes.", "This is [NAME_1] from Ferreira Bikes."),
        ("I\u2019m Jonah Whitfield, order 5521.", "I\u2019m [NAME_1], order 5521."),
    ],
)
def test_personal_data_of_every_kind_is_replaced(text, redacted):
    assert personal_data_redact(text=text).text == redacted


@pytest.mark.parametrize(
    "text",
    [
        "My order 11/27 arrived damaged.",
        "My plan expires 11/27, can I renew early?",
        "Is the bill of 11/27 correct? I was charged on 03/22/2025 twice.",
        "Version 2.1.3 of the app crashes with error code 404.",
        "What does this error code on my display mean: 0x80070005?",
        "The security update 2025 failed.",
        "Born to run: is the marathon plan in stock?",
        "Does the 5 avenue des Lilas store open at 9?",
        "Our Leeds store: 14 Elm Road, open daily.",
        "I'm Canadian and travel a lot.",
        "Does the Elm Road branch sell gift cards?",
        "Is the Apex 3 Carbon Road in stock, and is the X1 2TB drive compatible?",
    ],
)
def test_look_alikes_in_ordinary_questions_are_left_as_written(text):
    assert personal_data_redact(text=text).text == text


EXPIRY, CODE, BIRTH, STREET = "09/28", "731", "03/22/1985", "731 Maple Grove Avenue"
EMAIL = "mo.khan@shop.lan"
QUESTION = (
    f"My name is Priya Raman, born {BIRTH}, at {STREET}, Springfield, IL 62704. "
    f"Card 5555 5555 5555 4444 exp {EXPIRY}, CVV {CODE}; mail me at {EMAIL}. "
    "Can I pay for an order with this card?"
)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_customer_message_is_stored_and_logged_with_placeholders_only(
    demo_help_center, caplog
):
    workspace = demo_help_center.workspace
    caplog.set_level(logging.DEBUG)

    await one_question(workspace.public_key, QUESTION)

    question, vault, _ = await stored_state(workspace)
    assert question.text == (
        "My name is [NAME_1], born [BIRTH_DATE_1], at [ADDRESS_1]. Card [CARD_1] exp "
        "[CARD_EXPIRY_1], CVV [SECURITY_CODE_1]; mail me at [EMAIL_1]. Can I pay for an order "
        "with this card?"
    )
    assert vault["[BIRTH_DATE_1]"] == BIRTH and vault["[EMAIL_1]"] == EMAIL
    log = "\n".join(record_json(record) for record in caplog.records)
    for value in ("Priya Raman", BIRTH, STREET, f"exp {EXPIRY}", f"CVV {CODE}", EMAIL):
        assert await database_mentions(value) == []
        assert value not in log


@pytest.fixture
def knowledge_base(demo_help_center):
    """The admin fixtures' workspace is the demo help center's: the sandbox answers."""
    return demo_help_center


@pytest.mark.usefixtures("chat_state")
def test_the_publish_gate_stores_its_cases_redacted(
    admin_client, admin_membership, job_queue, monkeypatch
):
    """The gate's own cases carry card numbers; its results are kept as the sandbox
    conversation keeps the question, redacted."""
    workspace = admin_membership.workspace
    [case] = [case for case in policy_checks.gate_cases() if case.key == "rt-070"]
    monkeypatch.setattr(policy_checks, "check_cases", lambda *, workspace_id: [case])
    admin_client.post(reverse("policy_draft", args=[workspace.slug]), PolicyVersion().content())
    admin_client.post(reverse("policy_check", args=[workspace.slug]))
    job_queue()

    [result] = PolicyCheck.objects.get().results.all()
    assert result.question == case.text.replace("4111 1111 1111 1111", "[CARD_1]")


def test_a_log_line_of_any_kind_holds_placeholders():
    record = logging.LogRecord(
        "assistant.widget.consumers",
        logging.WARNING,
        __file__,
        1,
        "Could not answer %s",
        ("born 03/22/1985, CVV 731, exp 09/28, mail mo.khan@shop.lan",),
        None,
    )
    assert json.loads(record_json(record))["event"] == (
        "Could not answer born [BIRTH_DATE_1], CVV [SECURITY_CODE_1], exp [CARD_EXPIRY_1], "
        "mail [EMAIL_1]"
    )
