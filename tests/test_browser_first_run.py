"""A new company's first run in a real browser, on a real server whose e-mails are files:
Keel's operator starts the workspace, its first admin accepts the e-mailed invitation and
lands on the setup checklist, then invites an agent, who joins and lands in the console.

Kept linear, one person after another, each in a browser context of their own, so later
steps (knowledge, widget, e-mail tickets) can be added where they happen."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import AuditEvent, Membership, Workspace
from tests.support.factories import UserFactory
from tests.support.people import invitation_accept_in, mailed_link_paths

pytestmark = pytest.mark.browser

COMPANY = "Gridline Power"
ADMIN_EMAIL = "kim@gridline-power.example"
AGENT_EMAIL = "ravi@gridline-power.example"
PASSWORD = "correct horse battery"  # tests.support.factories.UserFactory's
NEW_PASSWORD = "lantern orchard 4417"


@pytest.fixture
def mail_folder(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def keel_server_env(mail_folder):
    """The server writes each e-mail it sends into `mail_folder`."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_folder),
    }


def test_a_company_starts_and_invites_its_people(keel_server, browser, page, mail_folder):
    # Keel's operator starts the company's workspace on the first-run page.
    operator = UserFactory(is_superuser=True, is_staff=True)
    page.goto(keel_server + reverse("login"))
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Start a workspace")).to_be_visible()
    page.get_by_label("Company name").fill(COMPANY)
    page.get_by_label("Its first admin's e-mail address").fill(ADMIN_EMAIL)
    page.get_by_role("button", name="Create the workspace").click()
    expect(page.locator("#started")).to_contain_text(f"e-mailed to {ADMIN_EMAIL}")
    workspace = Workspace.objects.get(name=COMPANY)
    expect(page.locator("#started")).to_contain_text(f'data-workspace="{workspace.public_key}"')
    [admin_link] = mailed_link_paths(mail_folder, to=ADMIN_EMAIL)
    expect(page.locator("#invitation-link")).to_contain_text(admin_link)

    # The first admin accepts, sets a password and lands on the setup checklist.
    admin_context = browser.new_context(base_url=keel_server)
    admin = admin_context.new_page()
    invitation_accept_in(admin, url=admin_link, name="Kim Osei", password=NEW_PASSWORD)
    expect(admin.get_by_role("heading", name=f"Set up {COMPANY}")).to_be_visible()
    steps = admin.locator("#setup-steps > li")
    expect(steps).to_have_count(4)
    expect(admin.locator('#setup-steps > li[data-done="no"]')).to_have_count(4)
    expect(steps.first.get_by_role("link", name="Add knowledge")).to_have_attribute(
        "href", reverse("knowledge_bases", args=[workspace.slug])
    )

    # The admin invites an agent from the People page.
    admin.get_by_role("link", name="People").click()
    admin.get_by_label("E-mail address").fill(AGENT_EMAIL)
    admin.get_by_label("Role:", exact=True).select_option(Membership.Role.AGENT)
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.locator("#people")).to_contain_text(f"Invitation e-mailed to {AGENT_EMAIL}")
    expect(admin.locator(f'#invitations tr[data-invitation="{AGENT_EMAIL}"]')).to_be_visible()
    [agent_link] = mailed_link_paths(mail_folder, to=AGENT_EMAIL)

    # The agent accepts and lands in the console.
    agent_context = browser.new_context(base_url=keel_server)
    agent = agent_context.new_page()
    invitation_accept_in(agent, url=agent_link, name="Ravi Kumar", password=NEW_PASSWORD)
    expect(agent).to_have_url(keel_server + reverse("console", args=[workspace.slug]))

    # The admin sees both in the workspace; every step is in the audit trail.
    admin.reload()
    members = admin.locator("#members tbody tr")
    expect(members).to_have_count(2)
    expect(admin.locator(f'#members tr[data-member="{AGENT_EMAIL}"]')).to_contain_text("Ravi Kumar")
    expect(admin.locator("#invitations")).to_contain_text("No open invitations.")
    assert set(AuditEvent.objects.filter(workspace=workspace).values_list("kind", flat=True)) == {
        AuditEvent.Kind.WORKSPACE_CREATED,
        AuditEvent.Kind.INVITATION,
        AuditEvent.Kind.MEMBER,
    }
    agent_context.close()
    admin_context.close()
