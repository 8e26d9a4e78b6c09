"""Every button staff use can be read: axe-core's colour-contrast rule (WCAG AA) on the
pages where the quieter (`secondary`) buttons are, in a real browser."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import Conversation, Membership
from tests.conftest import log_in
from tests.support.factories import (
    ConversationFactory,
    HandoffFactory,
    MembershipFactory,
    MessageFactory,
    PolicyVersionFactory,
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
