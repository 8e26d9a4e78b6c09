"""An admin in a real browser: uploads and watches indexing finish without reloading;
follows a conflict to its documents and sets a date; tests a question."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from knowledge.models import Document
from tests.conftest import log_in
from tests.support import files
from tests.support.commands import ingest

pytestmark = pytest.mark.browser


def knowledge_base_url(knowledge_base) -> str:
    return reverse(
        "knowledge_base",
        kwargs={
            "workspace_slug": knowledge_base.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
        },
    )


def test_upload_several_files_and_watch_their_status_change_live(
    keel_server, page, admin_membership, knowledge_base, worker_process, tmp_path
):
    (tmp_path / "returns.md").write_text("# Returns\n\nBikes go back within 30 days.\n")
    (tmp_path / "hours.txt").write_text("Our stores open at nine every day.")
    (tmp_path / "locked.pdf").write_bytes(files.pdf_with_password())

    log_in(page, url=keel_server + knowledge_base_url(knowledge_base), membership=admin_membership)
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

    rows.filter(has_text="locked.pdf").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(2)
    assert page.evaluate("window.notReloaded") is True


def test_an_admin_follows_a_conflict_sets_a_date_and_tests_a_question(
    keel_server, page, admin_membership, knowledge_base, tmp_path
):
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "fees-2024.md").write_text(
        "# Fees\n\nLast updated 3 March 2024.\n\nThe late payment fee is $12.\n"
    )
    (folder / "fees.md").write_text(
        "# Fees\n\nEffective 1 May 2025. This page replaces the fees page dated 3 March 2024."
        "\n\nThe late payment fee is $9.50.\n"
    )
    (folder / "rentals.md").write_text(
        "# Rentals\n\nEffective 1 May 2025.\n\nA rental bike costs $18 per day.\n"
    )
    ingest(folder, knowledge_base)

    log_in(page, url=keel_server + knowledge_base_url(knowledge_base), membership=admin_membership)
    page.get_by_role("link", name="Conflicts").click()

    expect(page.get_by_role("heading", name="Conflicts")).to_be_visible()
    superseded = page.locator(".superseded li")
    expect(superseded).to_have_count(1)
    expect(superseded).to_contain_text("(effective 3 March 2024): superseded by")
    expect(page.locator(".conflict").first).to_contain_text("newer: the one answered from")

    superseded.get_by_role("link", name="Fees").first.click()
    expect(page.get_by_role("heading", name="Fees")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Superseded")
    expect(page.locator("dl.facts")).to_contain_text("fees-2024.md")

    page.get_by_label("Effective date").fill("2024-03-10")
    page.get_by_role("button", name="Save dates").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("#document-dates")).to_contain_text("Set by")
    expect(page.get_by_label("Effective date")).to_have_value("2024-03-10")
    assert str(Document.objects.get(source__endswith="/fees-2024.md").effective_date) == (
        "2024-03-10"
    )

    # The question the superseded page would answer wrongly: the newer page's passage first.
    page.get_by_role("link", name=knowledge_base.name).click()
    tested = page.locator("#question-test")
    tested.get_by_label("Question").fill("How much is the late payment fee?")
    tested.get_by_role("button", name="Search").click()
    expect(tested.locator("tr.hit").first).to_contain_text("$9.50")
    expect(tested.locator(".verdict")).to_contain_text("Would answer")

    # On a phone the passages stack, each figure named, rather than scroll sideways.
    page.set_viewport_size({"width": 390, "height": 800})
    expect(tested.locator("thead")).to_be_hidden()
    assert tested.locator("xpath=..").evaluate("card => card.scrollWidth <= card.clientWidth")
