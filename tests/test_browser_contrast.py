"""Every button staff use can be read: axe-core's colour-contrast rule (WCAG AA) on the
pages where the quieter (`secondary`) buttons are, in a real browser; and every staff page
passes all of axe-core's rules (no serious or critical violation) for one admin."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import AuditEvent, Conversation, EvalRun, Membership
from tests.conftest import log_in
from tests.support.factories import (
    AnswerFactory,
    AuditEventFactory,
    ConversationFactory,
    DocumentFactory,
    HandoffFactory,
    KnowledgeBaseFactory,
    MembershipFactory,
    MessageFactory,
    PolicyVersionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser


def assert_readable(page) -> None:
    """Nothing on the page as it is now that axe finds too faint, element by element."""
    results = Axe().run(
        page,
        options={"runOnly": ["color-contrast"], "resultTypes": ["violations", "incomplete"]},
    )
    faint = [
        f"{node['html']}: {node['any'][0]['message']}"
        for kind in ("violations", "incomplete")
        for violation in results.response[kind]
        for node in violation["nodes"]
    ]
    assert not faint, "\n".join(faint)


def test_the_quieter_buttons_have_aa_contrast(keel_server, browser, transactional_db):
    workspace = WorkspaceFactory()
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    conversation = ConversationFactory(workspace=workspace, state=Conversation.State.AGENT)
    MessageFactory(conversation=conversation, text="My card was charged twice.")
    HandoffFactory(conversation=conversation, claimed_by=agent.user)
    PolicyVersionFactory(workspace=workspace)
    PolicyVersionFactory(workspace=workspace, competitors="RideNow")

    console = browser.new_context().new_page()
    log_in(
        console,
        url=keel_server + reverse("console_conversation", args=[workspace.slug, conversation.pk]),
        membership=agent,
    )
    for name in ("Hand back to the assistant", "Show", "Save as a test case"):
        expect(console.get_by_role("button", name=name)).to_be_visible()
    assert_readable(console)

    policy = browser.new_context().new_page()
    log_in(policy, url=keel_server + reverse("policy", args=[workspace.slug]), membership=admin)
    for name in ("Restore version 1", "Start over"):
        expect(policy.get_by_role("button", name=name)).to_be_visible()
    assert_readable(policy)


def serious_violations(page) -> list[str]:
    """axe-core's every rule on the page as it is now; the serious and critical findings."""
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): "
        + "; ".join(" ".join(node["html"].split())[:120] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_every_staff_page_passes_axe(keel_server, browser, transactional_db):
    """A utility company's workspace with one of each thing a page lists, walked by its
    admin in one browser session: the login page, then every staff page, then the refusals
    (403, 404) and a member of no workspace."""
    workspace = WorkspaceFactory(name="Northgrid Power")
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    knowledge_base = KnowledgeBaseFactory(workspace=workspace, slug="outages")
    document = DocumentFactory(knowledge_base=knowledge_base, title="Reporting an outage")
    conversation = ConversationFactory(workspace=workspace, state=Conversation.State.WAITING)
    MessageFactory(conversation=conversation, text="My power has been out since noon.")
    answer = AnswerFactory(conversation=conversation, text="Report it on the outage map.")
    HandoffFactory(conversation=conversation)
    PolicyVersionFactory(workspace=workspace)
    run = EvalRun.objects.create(
        workspace=workspace, suite=EvalRun.Suite.GOLDEN, status=EvalRun.Status.FINISHED,
        case_count=0,
    )  # fmt: skip
    AuditEventFactory(
        workspace=workspace, conversation=conversation, kind=AuditEvent.Kind.HANDOFF,
        detail={"from": "bot", "to": "waiting"},
    )  # fmt: skip
    slug = workspace.slug
    pages = [
        reverse("console", args=[slug]),
        reverse("console_conversation", args=[slug, conversation.pk]),
        reverse("answer", args=[slug, answer.pk]),
        reverse("knowledge_bases", args=[slug]),
        reverse("knowledge_base", args=[slug, knowledge_base.slug]),
        reverse("document", args=[slug, knowledge_base.slug, document.pk]),
        reverse("knowledge_conflicts", args=[slug, knowledge_base.slug]),
        reverse("widget_settings", args=[slug]),
        reverse("policy", args=[slug]),
        reverse("evaluation", args=[slug]),
        reverse("evaluation_run", args=[slug, run.pk]),
        reverse("eval_cases", args=[slug]),
        reverse("analytics", args=[slug]),
        reverse("gaps", args=[slug]),
        reverse("audit_log", args=[slug]),
        reverse("setup", args=[slug]),
        reverse("people", args=[slug]),
        reverse("knowledge_base", args=[slug, "no-such-base"]),  # the 404 page
    ]

    page = browser.new_context().new_page()
    page.goto(keel_server + reverse("login"))
    problems = serious_violations(page)
    log_in(page, url=keel_server + pages[0], membership=admin)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    for url in pages:
        page.goto(keel_server + url)
        page.wait_for_load_state("networkidle")
        problems += serious_violations(page)
    # The phone's menu, open.
    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Audit")).to_be_visible()
    problems += serious_violations(page)

    page.get_by_role("button", name="Log out").click()
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    log_in(page, url=keel_server + reverse("policy", args=[slug]), membership=agent)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    problems += serious_violations(page)
    page.get_by_role("button", name="Log out").click()
    no_workspace = UserFactory()
    page.goto(keel_server + reverse("home"))
    page.get_by_label("Username").fill(no_workspace.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="No workspace yet")).to_be_visible()
    problems += serious_violations(page)
    assert not problems, "\n".join(problems)
