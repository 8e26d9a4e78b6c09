"""An admin uploads in a real browser and watches indexing finish without reloading."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import files
from tests.conftest import log_in

pytestmark = pytest.mark.browser


def test_upload_several_files_and_watch_their_status_change_live(
    keel_server, page, admin_membership, knowledge_base, worker_process, tmp_path
):
    (tmp_path / "returns.md").write_text("# Returns\n\nBikes go back within 30 days.\n")
    (tmp_path / "hours.txt").write_text("Our stores open at nine every day.")
    (tmp_path / "locked.pdf").write_bytes(files.pdf_with_password())
    knowledge_base_url = reverse(
        "knowledge_base",
        kwargs={
            "workspace_slug": knowledge_base.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
        },
    )

    log_in(page, url=keel_server + knowledge_base_url, membership=admin_membership)
    expect(page.get_by_role("heading", name=knowledge_base.name)).to_be_visible()
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Markdown, HTML, plain text or PDF files").set_input_files(
        [tmp_path / "returns.md", tmp_path / "hours.txt", tmp_path / "locked.pdf"]
    )
    page.get_by_role("button", name="Upload").click()

    expect(page.locator("#upload-result li")).to_have_count(3)
    expect(page.locator("#upload-result")).to_contain_text("returns.md: added, queued for indexing")
    # Sent: the form is emptied (static/keel/forms.js; the CSP allows no hx-on).
    expect(page.get_by_label("Markdown, HTML, plain text or PDF files")).to_have_value("")
    rows = page.locator("#documents tbody tr")
    expect(rows).to_have_count(3)
    for title in ("Returns", "Hours"):
        expect(rows.filter(has_text=title).locator(".status")).to_have_text(
            "Ready", timeout=120_000
        )
    expect(rows.filter(has_text="locked.pdf").locator(".status")).to_contain_text(
        "Failed: The PDF is password-protected"
    )
    assert page.evaluate("window.notReloaded") is True

    page.once("dialog", lambda dialog: dialog.accept())
    rows.filter(has_text="locked.pdf").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(2)
    assert page.evaluate("window.notReloaded") is True
