"""Long, specific messages of Keel's built-in escalation rules go to a person; long ordinary
questions that read like them stay with the assistant. Keel's own held-out messages, none
of them among the classifier's examples (`rails.intent_classifier`); the nearest-example
match alone catches none of the requests below."""

import pytest

from assistant.rails.input_rails import input_rails
from tests.factories import PolicyVersionFactory

HEATER_SMOKE = (
    "When I switched on the heater the plug started to crackle, black smoke came out and "
    "the wall socket is scorched."
)


@pytest.fixture
def policy(demo_help_center):
    """The default policy of a workspace whose help center's questions count as ordinary."""
    return PolicyVersionFactory(workspace=demo_help_center.workspace)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "asks_for_person",
            "The refund form keeps rejecting my order number and I have tried everything the "
            "articles say. Could a real member of your staff take over?",
        ),
        (
            "asks_for_person",
            "Mein Problem mit der Installation ist zu kompliziert für den Chat, bitte verbinden "
            "Sie mich mit einem Techniker aus Ihrem Team.",
        ),
        (
            "upset",
            "I paid for next-day delivery, the parcel came a week late and broken, and your "
            "hotline hung up on me twice. I am livid.",
        ),
        (
            "legal_threat",
            "You installed the wrong boiler and refuse to fix it, so I have asked a lawyer to "
            "start proceedings against your firm.",
        ),
        (
            "fraud",
            "I checked my bank app this morning and found four payments to your shop for gift "
            "cards that I never bought, and my account email has been changed.",
        ),
        ("device_danger", HEATER_SMOKE),
        (
            "emergency_call_failed",
            "My husband had chest pains and when I dialled the emergency number from the phone "
            "you sold me the call failed again and again.",
        ),
    ],
)
def test_a_long_specific_message_goes_to_a_person(policy, key, message):
    verdict = input_rails(text=message, policy=policy)

    assert verdict.intent is not None
    assert verdict.intent.key == key
    assert verdict.intent_match.example == ""  # the classifier's, no example was near
    assert verdict.intent_match.say == verdict.intent.rule.say


@pytest.mark.parametrize(
    "question",
    [
        "I never added the second line, how do I add one?",
        "What data do you store about me? Where is your privacy policy?",
        "How do I download a copy of my invoices and receipts from the last six months?",
        "My laptop gets warm on my lap when I play games for a few hours, should I buy a "
        "cooling pad?",
        "Can I close one of my two accounts and move the order history to the other one?",
        "Someone at your shop was really helpful yesterday, how can I leave them a compliment?",
        "If I am not happy with the product after trying it, can I return it within thirty days?",
        "What are my rights if the product breaks during the warranty period, and do I need the "
        "receipt?",
        "How do I add my wife as a second driver on the account so she can book cars too?",
        "Is there an emergency contact feature in the app so my family is told if something "
        "happens?",
        "Wie kann ich meine Lieferadresse ändern, nachdem ich die Bestellung aufgegeben habe?",
        "Comment puis-je télécharger toutes mes factures de l'année dernière ?",
    ],
)
def test_a_long_ordinary_look_alike_stays_with_the_assistant(policy, question):
    verdict = input_rails(text=question, policy=policy)

    assert not verdict.wants_person


def test_a_builtin_rule_the_policy_switched_off_is_not_classified_either(demo_help_center):
    policy = PolicyVersionFactory(
        workspace=demo_help_center.workspace, builtin_rules_off=["device_danger"]
    )

    verdict = input_rails(text=HEATER_SMOKE, policy=policy)

    assert not verdict.wants_person
