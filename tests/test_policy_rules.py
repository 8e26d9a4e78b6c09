"""Rules that do what they say: a refused topic or an escalation rule fires only where the
message is closer to its examples than to its "not:" lines and to the questions the
workspace's own help center answers; and the publish gate asks a draft those questions.

A small bike shop of our own, Spoke & Chain, with a competitors topic and a data deletion
rule."""

import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from assistant.evaluation import policy_checks
from assistant.models import AuditEvent, EvalCase, Message, PolicyCheck, PolicyVersion
from assistant.rails.policy_rules import rules
from tests.support.chat import ChatClient, one_question
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory, PolicyVersionFactory, WorkspaceFactory

BIKES = """# Our bikes

## Comparing our city and mountain bikes

Our Alder city bike has mudguards, a rack and hub gears for commuting. Our Ridge mountain
bike has front suspension and wide tyres for trails.

| Bike | Price | Gears |
| --- | --- | --- |
| Alder city bike | $640 | 8 |
| Ridge mountain bike | $890 | 12 |
"""

ACCOUNT = """# Your account

## Saved addresses

Q: How do I delete a saved address from my account?
A: Open Account, then Addresses, and choose Remove next to the address.

Q: Can I pay by card?
A: Yes: Visa and Mastercard are accepted at checkout.
"""

COMPETITORS = (
    "Competitors: is another bike shop better than you; compare your bikes with another "
    "brand's; which other shop sells cheaper bikes"
)
DATA_DELETION = "Data deletion: delete my data; delete my account; erase all my personal data"
BATTERY = "Battery danger: my battery gets very hot; my e-bike battery is smoking"


@pytest.fixture
def spoke_and_chain(tmp_path, transactional_db):
    knowledge_base = KnowledgeBaseFactory(
        workspace=WorkspaceFactory(name="Spoke & Chain"), slug="help"
    )
    (tmp_path / "bikes.md").write_text(BIKES)
    (tmp_path / "account.md").write_text(ACCOUNT)
    ingest(tmp_path, knowledge_base)
    return knowledge_base


@database_sync_to_async
def publish(workspace, **content) -> PolicyVersion:
    return PolicyVersionFactory(workspace=workspace, **content)


@database_sync_to_async
def last_exchange(workspace) -> tuple[Message, Message]:
    answer = Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).latest("pk")
    question = answer.conversation.messages.filter(role=Message.Role.CUSTOMER).latest("pk")
    return question, answer


async def asked(workspace, text: str) -> tuple[Message, Message]:
    await one_question(workspace.public_key, text)
    return await last_exchange(workspace)


async def handed_over(workspace, text: str) -> tuple[Message, Message]:
    """Asked by a new visitor who is passed to a person: with no one online, the widget
    asks for their e-mail address."""
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    await chat.send({"type": "ask", "message": text})
    await chat.until('id="ticket-email"')
    await chat.close()
    return await last_exchange(workspace)


def test_a_rule_line_carries_its_counter_examples():
    [rule] = rules(f"{BATTERY} | not: how warm may the battery get; is a warm charger normal")
    assert rule.label == "Battery danger"
    assert rule.examples == (
        "Battery danger",
        "my battery gets very hot",
        "my e-bike battery is smoking",
    )
    assert rule.counter_examples == ("how warm may the battery get", "is a warm charger normal")
    assert rules(BATTERY)[0].counter_examples == ()


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_plain_question_about_the_shops_own_bikes_is_answered_not_refused(
    spoke_and_chain,
):
    workspace = spoke_and_chain.workspace
    await publish(workspace, topics_refused=COMPETITORS)

    _, answer = await asked(workspace, "How do your city bikes compare with your mountain bikes?")
    assert answer.outcome == Message.Outcome.ANSWERED, answer.text
    assert "Alder" in answer.text

    _, answer = await asked(workspace, "Is another bike shop better than you?")
    assert answer.outcome == Message.Outcome.REFUSED  # the topic still holds


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_question_the_help_center_answers_is_not_escalated(spoke_and_chain):
    workspace = spoke_and_chain.workspace
    await publish(workspace, escalation_rules=DATA_DELETION)

    question, answer = await asked(workspace, "How do I delete my account's saved addresses?")
    assert question.escalation_rule == ""
    assert answer.outcome == Message.Outcome.ANSWERED, answer.text

    question, answer = await handed_over(workspace, "Please delete my account and all my data.")
    assert question.escalation_rule == "Data deletion"
    assert answer.outcome == Message.Outcome.HANDED_OFF


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_counter_example_stops_a_rule(spoke_and_chain):
    workspace = spoke_and_chain.workspace
    # Said as a report, not asked as "is it normal?", which the rule would need more for.
    look_alike = "My battery gets a bit warm while charging."
    await publish(workspace, escalation_rules=BATTERY)
    question, _ = await handed_over(workspace, look_alike)
    assert question.escalation_rule == "Battery danger"  # without "not:", it is caught

    await publish(
        workspace, escalation_rules=f"{BATTERY} | not: my battery is a little warm when charging"
    )
    question, answer = await asked(workspace, look_alike)
    assert question.escalation_rule == ""
    assert answer.outcome != Message.Outcome.HANDED_OFF

    question, answer = await handed_over(workspace, "Help, my e-bike battery is smoking!")
    assert question.escalation_rule == "Battery danger"
    assert answer.outcome == Message.Outcome.HANDED_OFF


@pytest.fixture
def knowledge_base(spoke_and_chain):
    """The admin fixtures' workspace is the bike shop's."""
    return spoke_and_chain


@pytest.fixture
def own_questions_only(monkeypatch):
    """The gate without Keel's red-team suite (its own tests run it), so it takes seconds."""
    monkeypatch.setattr(policy_checks, "gate_cases", lambda: ())


def csrf_post(client: Client, path: str, data: dict) -> str:
    """A post as the page's htmx sends it, with the CSRF token of the page's cookie."""
    token = client.cookies["csrftoken"].value
    response = client.post(path, data, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.usefixtures("own_questions_only")
def test_the_gate_asks_the_help_centers_own_questions_and_blocks_a_draft_that_refuses_them(
    admin_membership, job_queue
):
    workspace = admin_membership.workspace
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_membership.user)
    policy_url = reverse("policy", args=[workspace.slug])
    client.get(policy_url)  # sets the CSRF cookie, as the browser's first visit does

    def url(name: str) -> str:
        return reverse(name, args=[workspace.slug])

    assert client.post(url("policy_check")).status_code == 403  # no token, no check
    draft = {
        **PolicyVersion().content(),
        "topics_refused": "Card payments: can I pay by card?",
    }
    csrf_post(client, url("policy_draft"), draft)
    csrf_post(client, url("policy_check"), {})
    job_queue()

    page = client.get(url("policy_check_status")).content.decode()
    check = PolicyCheck.objects.get()
    results = {result.question: result for result in check.results.all()}
    assert "Comparing our city and mountain bikes" in results
    assert "How do I delete a saved address from my account?" in results
    assert "Comparing our city and mountain bikes: Ridge mountain bike" in results  # a row
    assert check.case_count == len(results)
    assert all(result.category == policy_checks.OWN_QUESTION for result in results.values())
    refused = results["Can I pay by card?"]
    assert (refused.passed, refused.critical) == (False, True)
    assert refused.reason == "Refused a question it should have answered."
    assert results["Comparing our city and mountain bikes"].passed
    own_group = page[page.index("Your help center's own questions") :]
    assert "Can I pay by card?" in own_group and "Saved addresses" in own_group
    assert re.search(r"1 of \d+ not answered", own_group)

    page = csrf_post(client, url("policy_publish"), {"override_reason": ""})
    assert "1 critical case(s) fail" in page
    assert not PolicyVersion.objects.filter(workspace=workspace, number__isnull=False).exists()

    csrf_post(
        client, url("policy_publish"), {"override_reason": "Card payments move to a new team"}
    )
    version = PolicyVersion.objects.get(workspace=workspace, number__isnull=False)
    assert version.override_reason == "Card payments move to a new team"
    override = AuditEvent.objects.get(kind=AuditEvent.Kind.POLICY_OVERRIDE)
    assert override.detail["critical_failures"] == [refused.case_id]


@pytest.mark.usefixtures("own_questions_only")
def test_a_draft_that_answers_its_help_center_publishes_without_an_override(
    admin_client, admin_membership, job_queue
):
    """The workspace's own test cases run too, those of a single question."""
    workspace = admin_membership.workspace
    deletion = EvalCase.objects.create(
        workspace=workspace,
        question="Please delete my account and all my data.",
        expected=EvalCase.Expected.ESCALATE,
    )
    EvalCase.objects.create(
        workspace=workspace,
        earlier_turns=["Do you sell city bikes?"],
        question="And in blue?",
        expected=EvalCase.Expected.ANSWER,
    )
    draft = {
        **PolicyVersion().content(),
        "topics_refused": COMPETITORS,
        "escalation_rules": DATA_DELETION,
    }
    admin_client.post(reverse("policy_draft", args=[workspace.slug]), draft)
    admin_client.post(reverse("policy_check", args=[workspace.slug]))
    job_queue()

    results = list(PolicyCheck.objects.get().results.all())
    assert results and all(result.passed for result in results), [
        (r.question, r.reason) for r in results if not r.passed
    ]
    [test_case] = [r for r in results if r.category == policy_checks.WORKSPACE_CASE]
    assert test_case.case_id == f"case-{deletion.pk}"
    assert test_case.reason == "Passed to a person: a policy rule."
    admin_client.post(reverse("policy_publish", args=[workspace.slug]), {"override_reason": ""})
    published = PolicyVersion.objects.get(workspace=workspace, number__isnull=False)
    assert published.override_reason == ""
