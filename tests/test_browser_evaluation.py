"""An admin starts an evaluation in a real browser: a real worker process runs it, the page
follows its progress and shows the report when it is done, with no reload by hand.

The workspace has a published policy, as the demo always does: the run is pinned to it, and
the worker (its own process, without the test's leave to use the ORM from async code)
must read it without touching the database from the event loop."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import EvalCase, Membership
from tests.conftest import log_in
from tests.support.factories import MembershipFactory, PolicyVersionFactory

pytestmark = pytest.mark.browser


def test_a_run_started_in_the_browser_ends_in_its_report(
    keel_server, page, demo_help_center, worker_process
):
    workspace = demo_help_center.workspace
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    PolicyVersionFactory(workspace=workspace, assistant_name="Spoke")
    EvalCase.objects.create(
        workspace=workspace,
        question="How long does delivery to Canada take?",
        expected="answer",
        expected_documents=["shipping-to-canada.html"],
    )
    EvalCase.objects.create(
        workspace=workspace,
        question="<img src=x onerror=alert(1)> skateboards?",
        expected="dont_know",
    )

    log_in(page, url=keel_server + reverse("evaluation", args=[workspace.slug]), membership=admin)
    page.get_by_label("Suite").select_option("golden")
    page.get_by_role("button", name="Start the run").click()

    expect(page.get_by_role("heading", name="Figures")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("Under policy version 1")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)  # the run did not fail
    results = page.locator("#evaluation-results")
    expect(results).to_contain_text("How long does delivery to Canada take?")
    expect(results).to_contain_text("<img src=x onerror=alert(1)> skateboards?")  # as text
    expect(page.locator("#evaluation-metrics")).to_contain_text("Retrieval hit@4")
    results.get_by_role("link", name="Why?").first.click()
    expect(page.get_by_role("heading", name="Why this answer")).to_be_visible()
