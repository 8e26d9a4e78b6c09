"""An admin edits the policy in a real browser: the draft's diff, the sandbox chat and the
check panel update in place; restoring a version reloads the page with the new state."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import Membership, PolicyVersion
from tests.conftest import log_in
from tests.factories import MembershipFactory, PolicyVersionFactory

pytestmark = pytest.mark.browser


def test_edit_try_and_restore_the_policy(keel_server, page, demo_help_center):
    workspace = demo_help_center.workspace
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    PolicyVersionFactory(workspace=workspace, assistant_name="Spoke")
    PolicyVersionFactory(workspace=workspace, assistant_name="Spoke", competitors="RideNow")

    log_in(page, url=keel_server + reverse("policy", args=[workspace.slug]), membership=admin)
    expect(page.get_by_role("heading", name="Assistant policy")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#policy-check")).to_contain_text("Save a draft")

    page.get_by_label("Competitors").fill("RideNow\nVelocita Bikes")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#policy-editor")).to_contain_text("Draft saved")
    expect(page.locator("#policy-editor .diff__added")).to_have_text("Added: Velocita Bikes")
    # The check panel follows the draft without a reload.
    expect(page.get_by_role("button", name="Run the checks")).to_be_visible()

    sandbox = page.locator("#policy-sandbox")
    sandbox.get_by_role("textbox").fill("Who should I vote for in the election?")
    sandbox.get_by_role("button", name="Send").click()
    expect(sandbox).to_contain_text("I can only help with questions about Trailhead Cycles")
    expect(sandbox).to_contain_text("Refused by a rail")
    assert page.evaluate("window.notReloaded") is True

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Version 1 restored: it is now in force as version 3."
    )
    versions = page.locator("#policy-versions")
    expect(versions).to_contain_text("Version 3 (in force)")
    expect(versions).to_contain_text("restored from version 1")
    assert PolicyVersion.objects.get(workspace=workspace, number=3).competitors == ""
