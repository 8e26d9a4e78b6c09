"""Safety first, then a person: Keel's built-in escalation rules fire through the customer's
socket, a rule's safety message comes before the handover, an admin sees the built-in rules
and switches them off in the policy editor, and look-alike questions stay with the
assistant."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from assistant.common.threads import in_thread
from assistant.handoffs.transitions import HANDOFF_MESSAGE
from assistant.models import AuditEvent, Conversation, Handoff, Message, PolicyVersion
from assistant.rails.intents import INTENTS
from tests.support.chat import ChatClient, one_question, visible_text
from tests.support.factories import PolicyVersionFactory

INTENT = {intent.key: intent for intent in INTENTS}
NO_ONE_ONLINE = 'id="ticket-email"'  # the customer is asked for an e-mail address
LEGAL_THREAT = "I'll be taking legal action against your company over this."
GAS_LEAK_RULE = (
    "Gas smell: I can smell gas near the boiler you fitted; there is a gas leak in my kitchen"
    " | say: Open the windows, don't switch anything on or off, leave the building and "
    "call the gas emergency line from outside."
)


@pytest.fixture
def knowledge_base(demo_help_center):
    """The admin fixtures' workspace is the demo help center's: the sandbox answers."""
    return demo_help_center


async def handed_over(workspace, text: str) -> tuple[Handoff, str]:
    """`text` sent through the customer's socket; the handoff it started once the customer
    is asked for an e-mail address (no one is online), and the assistant's reply shown."""
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    await chat.send({"type": "ask", "message": text})
    frames = []
    while not (NO_ONE_ONLINE in "".join(frames) and "message--assistant" in "".join(frames)):
        frames.append(await chat.receive())
    await chat.close()
    [shown] = [frame for frame in frames if "message--assistant" in frame]
    return await in_thread(_the_handoff)(workspace), shown


def _the_handoff(workspace) -> Handoff:
    return Handoff.objects.select_related("conversation").get(conversation__workspace=workspace)


def _replies(workspace) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation__workspace=workspace, role=Message.Role.ASSISTANT
        ).order_by("pk")
    )


def _audits(workspace, kind: AuditEvent.Kind) -> list[dict]:
    return list(
        AuditEvent.objects.filter(workspace=workspace, kind=kind)
        .order_by("pk")
        .values_list("detail", flat=True)
    )


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("asks_for_person", "Hi, could you put me through to a real human please"),
        ("asks_for_person", "Ich will sofort mit jemandem von Ihrem Team reden"),
        ("upset", "Esto es inaceptable, estoy furioso con ustedes"),
        ("account_closure", "Please close my account for good, I am done"),
        ("personal_data_request", "Please erase all the personal information you keep about me"),
        ("legal_threat", LEGAL_THREAT),
        ("fraud", "Somebody got into my account and placed orders I never made"),
        ("bereavement", "My father passed away last week and I need to sort out his account"),
        ("device_danger", "The charger is melting and there is smoke"),
        ("device_danger", "Mi cargador está echando humo y huele a quemado"),
        ("injury", "Your heater burned my hand. What could this pain be?"),
        ("emergency_call_failed", "When I dialled the emergency number it would not connect"),
    ],
)
async def test_each_builtin_rule_hands_the_conversation_to_a_person(demo_help_center, key, message):
    """Even where the message also asks about a refused topic (the injury one asks for a
    diagnosis, "Medical advice" in the default policy): they need the person."""
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(workspace=workspace)
    intent = INTENT[key]

    handoff, shown = await handed_over(workspace, message)

    assert handoff.conversation.state == Conversation.State.WAITING
    assert handoff.reason == intent.reason
    if intent.reason == Handoff.Reason.POLICY_RULE:
        assert handoff.reason_detail == intent.rule.label
    [flag] = await in_thread(_audits)(workspace, AuditEvent.Kind.ESCALATION_FLAG)
    assert flag["rule"] == intent.rule.label
    [reply] = await in_thread(_replies)(workspace)
    assert reply.outcome == Message.Outcome.HANDED_OFF
    with translation.override(handoff.language):
        handover, safety = translation.gettext(HANDOFF_MESSAGE), str(intent.rule.say)
    assert reply.text == (f"{safety}\n\n{handover}" if safety else handover)
    if safety and handoff.language != "en":  # Keel's own safety messages are translated
        assert safety != str(intent.rule.say)
    assert reply.trace["handoff"]["safety_message_sent"] == bool(safety)
    assert handover in visible_text(shown)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_rules_safety_message_comes_before_the_handover_as_written(demo_help_center):
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(workspace=workspace, escalation_rules=GAS_LEAK_RULE)
    safety = GAS_LEAK_RULE.partition("say: ")[2]

    handoff, shown = await handed_over(workspace, "I think there's a gas leak by the boiler")

    assert (handoff.reason, handoff.reason_detail) == (Handoff.Reason.POLICY_RULE, "Gas smell")
    text = visible_text(shown)
    handover = translation.gettext(HANDOFF_MESSAGE)
    assert safety in text and handover in text
    assert text.index(safety) < text.index(handover)
    [reply] = await in_thread(_replies)(workspace)
    assert reply.text == f"{safety}\n\n{handover}"
    assert reply.trace["handoff"] == {
        "reason": Handoff.Reason.POLICY_RULE,
        "rule": "Gas smell",
        "safety_message_sent": True,
    }
    [transition] = await in_thread(_audits)(workspace, AuditEvent.Kind.HANDOFF)
    assert transition["rule"] == "Gas smell" and transition["safety_message_sent"] is True


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
@pytest.mark.parametrize(
    "question",
    [
        "How do I close the app?",
        "How do I delete a saved address?",
        "my phone gets warm when gaming, is that normal?",
        "Can I close my order and start again?",
        "¿Cuánto tarda el envío a Madrid?",
    ],
)
async def test_look_alike_questions_stay_with_the_assistant(demo_help_center, question):
    workspace = demo_help_center.workspace
    await in_thread(PolicyVersionFactory)(workspace=workspace)

    answer = await one_question(workspace.public_key, question)

    assert answer.text
    assert not await in_thread(Handoff.objects.filter(conversation__workspace=workspace).exists)()
    [reply] = await in_thread(_replies)(workspace)
    assert reply.outcome != Message.Outcome.HANDED_OFF
    assert reply.trace["rails"]["input"]["intent"] is None


def _csrf_client(membership) -> tuple[Client, str]:
    """A signed-in admin's browser, CSRF checks on, with the token the editor gave it."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(membership.user)
    page = browser.get(reverse("policy", args=[membership.workspace.slug])).content.decode()
    return browser, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_the_editor_lists_the_builtin_rules_and_one_switched_off_stops_firing(
    admin_membership,
):
    workspace = admin_membership.workspace
    in_force = PolicyVersionFactory(workspace=workspace)
    browser, token = _csrf_client(admin_membership)
    page = browser.get(reverse("policy", args=[workspace.slug])).content.decode()
    legal = INTENT["legal_threat"].rule
    assert legal.label in page and legal.examples[0] in page
    assert str(INTENT["device_danger"].rule.say) in page

    sandbox = reverse("policy_sandbox", args=[workspace.slug])
    browser.post(sandbox, {"message": LEGAL_THREAT, "csrfmiddlewaretoken": token})
    assert Handoff.objects.get().reason_detail == legal.label

    saved = browser.post(
        reverse("policy_draft", args=[workspace.slug]),
        {**in_force.content(), "builtin_rules_off": ["legal_threat"], "csrfmiddlewaretoken": token},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Draft saved" in saved
    assert "Built-in rules switched off" in saved
    # The draft's changes name the rule as the editor does.
    assert f"Built-in rules switched off: + {legal.label}" in visible_text(saved)
    draft = PolicyVersion.objects.get(workspace=workspace, number__isnull=True)
    assert draft.content()["builtin_rules_off"] == ["legal_threat"]

    browser.post(sandbox, {"message": LEGAL_THREAT, "csrfmiddlewaretoken": token})
    assert Handoff.objects.count() == 1  # no second handoff
    reply = Message.objects.filter(role=Message.Role.ASSISTANT).latest("pk")
    assert reply.outcome != Message.Outcome.HANDED_OFF
    assert reply.trace["rails"]["input"]["intent"] is None


def test_the_policy_form_refuses_an_unknown_rule_segment(admin_membership):
    workspace = admin_membership.workspace
    in_force = PolicyVersionFactory(workspace=workspace)
    browser, token = _csrf_client(admin_membership)

    page = browser.post(
        reverse("policy_draft", args=[workspace.slug]),
        {
            **in_force.content(),
            "escalation_rules": "Gas smell: I can smell gas | sya: leave the building",
            "csrfmiddlewaretoken": token,
        },
    ).content.decode()

    assert "“sya: leave the building” in" in page
    assert "is not a part Keel knows: after a “|” write “| not: …” or “| say: …”." in page
    assert not PolicyVersion.objects.filter(workspace=workspace, number__isnull=True).exists()
