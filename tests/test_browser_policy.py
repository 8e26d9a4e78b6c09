"""An admin edits the policy in a real browser: the draft's diff, the sandbox chat and the
check panel update in place; restoring a version reloads the page with the new state."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import Membership, PolicyVersion
from assistant.rails.not_support import NOT_SUPPORT_TOPICS
from tests.conftest import log_in
from tests.support.factories import MembershipFactory, PolicyVersionFactory
from tests.test_policy_pages import small_suite  # noqa: F401 (a fixture)

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

    summary = page.locator("#policy-summary")
    expect(summary).to_contain_text("No changes")
    # The summary follows the edits before anything is saved.
    page.get_by_label("Competitors").fill("RideNow\nVelocita Bikes")
    expect(summary).to_contain_text("Competitors: + Velocita Bikes")
    page.get_by_label("Assistant name").fill("Wheelie")
    expect(summary).to_contain_text("Assistant name: Spoke → Wheelie")
    assert not PolicyVersion.objects.filter(workspace=workspace, number__isnull=True).exists()
    page.get_by_label("Assistant name").fill("Spoke")
    expect(summary).not_to_contain_text("Assistant name")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#policy-editor")).to_contain_text("Draft saved")
    expect(summary).to_contain_text("Competitors: + Velocita Bikes")
    expect(summary).not_to_contain_text("Assistant name")
    # The check panel follows the draft without a reload.
    expect(page.get_by_role("button", name="Run the checks")).to_be_visible()

    sandbox = page.locator("#policy-sandbox")
    sandbox.get_by_role("textbox").fill("Who should I vote for in the election?")
    sandbox.get_by_role("button", name="Send").click()
    expect(sandbox).to_contain_text("I can only help with questions about Trailhead Cycles")
    expect(sandbox).to_contain_text("Refused by a rail")
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Version 1 restored: it is now in force as version 3."
    )
    versions = page.locator("#policy-versions")
    expect(versions).to_contain_text("Version 3 (in force)")
    expect(versions).to_contain_text("restored from version 1")
    assert PolicyVersion.objects.get(workspace=workspace, number=3).competitors == ""


@pytest.mark.usefixtures("small_suite")
def test_a_built_in_refused_topic_is_listed_and_switched_off_for_good(
    keel_server, page, demo_help_center, job_queue
):
    workspace = demo_help_center.workspace
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    PolicyVersionFactory(workspace=workspace)
    topic = NOT_SUPPORT_TOPICS[0]

    log_in(page, url=keel_server + reverse("policy", args=[workspace.slug]), membership=admin)
    page.get_by_text("Built-in refused topics: what each one looks for").click()
    listed = page.locator("#builtin-topics")
    expect(listed).to_contain_text(topic.rule.label)
    expect(listed).to_contain_text(topic.rule.examples[0])

    page.get_by_label(topic.rule.label).check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#policy-summary")).to_contain_text(
        f"Built-in rules switched off: + {topic.rule.label}"
    )
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#policy-check")).to_contain_text("Checking the draft")
    with ThreadPoolExecutor(max_workers=1) as worker:  # Playwright's loop owns this thread
        worker.submit(job_queue).result()
    if page.get_by_role("button", name="Publish anyway").count():
        page.get_by_label("Reason").fill("The test publishes whatever the checks say.")
    # Asked first: cancelled, nothing is sent; confirmed, it is published, once.
    publishing = []
    page.on(
        "request",
        lambda request: publishing.append(request.url) if "/publish/" in request.url else None,
    )
    page.get_by_role("button", name="Publish").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text("Publish the draft? Customers get it from their next message.")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    page.get_by_role("button", name="Publish").click()
    confirm.get_by_role("button", name="Publish").click()

    expect(page.locator("#policy-versions")).to_contain_text("Version 2 (in force)")
    assert len(publishing) == 1, publishing
    expect(page.get_by_label(topic.rule.label)).to_be_checked()
    published = PolicyVersion.objects.get(workspace=workspace, number=2)
    assert published.builtin_rules_off == [topic.key]
