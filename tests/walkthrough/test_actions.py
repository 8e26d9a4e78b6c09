"""The walkthrough's actions: in a real browser against a real daphne process and a real
worker, an admin clicks the main actions of every page and a customer chats, and each
step's page is checked as the walk checks its pages (test_pages.py). Every POST-only
route must have been clicked and taken."""

import mimetypes

import pytest
from playwright.sync_api import expect

from assistant.models import EvalCase, EvalRun, Membership
from tests.support.walk import (
    INVITED_EMAIL,
    SPARE_EMAIL,
    Walk,
    avatar_png,
    exercised,
    log_out,
    session,
)
from tests.support.walkthrough import (
    ACTIONS,
    Role,
    page_problems,
    route_url,
    screenshot,
    url_routes,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


class AdminActions:
    """An admin's session for the action tests: `check` collects what is wrong on the page
    after each step, labelled, and the test fails on all of it at the end."""

    def __init__(self, browser, walk: Walk):
        self.context, self.page, self.watch = session(browser, walk, Role.ADMIN)
        self.walk = walk
        self.failures: list[str] = []

    def url(self, name: str, **values) -> str:
        route = next(route for route in url_routes() if route.name == name)
        return route_url(route, values={**self.walk.values, **values})

    def choose_file(self, label: str, *, name: str, content: bytes) -> None:
        mime_type = mimetypes.guess_type(name)[0] or "text/plain"
        self.page.get_by_label(label).set_input_files(
            files=[{"name": name, "mimeType": mime_type, "buffer": content}]
        )

    def check(self, step: str) -> None:
        problems = page_problems(self.page) + self.watch.problems
        self.watch.clear()
        screenshot(self.page, role=Role.ADMIN, name=step.replace(" ", "-"))
        self.failures.extend(f"[admin] {step} ({self.page.url}): {p}" for p in problems)

    def finish(self) -> None:
        assert not self.failures, "\n".join(self.failures)


@pytest.fixture
def admin(browser, walk):
    actions = AdminActions(browser, walk)
    yield actions
    actions.context.close()


def test_console_actions(admin):
    page = admin.page
    page.goto(admin.url("console_conversation"))
    admin.check("conversation waiting")
    page.get_by_role("button", name="Take this conversation").click()
    expect(page.get_by_label("Reply to the customer")).to_be_visible()
    admin.check("conversation taken")
    page.locator("#vault").get_by_role("button", name="Show").click()
    expect(page.locator("#vault")).to_contain_text("jo@example.com")
    page.get_by_label("Add a note").fill("Walkthrough note")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Walkthrough note")
    page.get_by_role("button", name="Save as a test case").first.click()
    expect(page.get_by_text("Saved as a test case")).to_be_visible()
    admin.check("vault note and test case")
    page.get_by_label("Reply to the customer").fill("Walkthrough reply")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#transcript")).to_contain_text("Walkthrough reply")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    admin.check("conversation resolved")

    page.goto(
        admin.url("console_conversation", conversation_id=admin.walk.values["handed_back_id"])
    )
    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page.get_by_role("button", name="Hand back to the assistant")).to_have_count(0)
    admin.check("conversation handed back")

    page.goto(admin.url("canned_replies"))
    page.get_by_label("Shortcut").fill("walk-hello")
    page.get_by_label("Title").fill("Hello")
    page.get_by_label("Body").fill("Hello, I'm looking into it now.")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Canned reply /walk-hello added.")).to_be_visible()
    admin.check("canned reply added")
    page.get_by_role("link", name="Edit /walk-hello").click()
    page.get_by_label("Title").fill("Greeting")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Canned reply /walk-hello saved.")).to_be_visible()
    page.get_by_role("button", name="Delete /walk-hello").click()
    expect(page.get_by_text("Canned reply /walk-hello deleted.")).to_be_visible()
    admin.check("canned replies")
    admin.finish()


def test_knowledge_actions(admin):
    page = admin.page
    page.goto(admin.url("knowledge_base"))
    admin.choose_file(
        "Markdown, HTML, plain text or PDF files",
        name="walk-scratch.md",
        content=b"# Tyre pressure\n\nPump road tyres to 80 psi before a long ride.\n",
    )
    page.get_by_role("button", name="Upload").click()
    scratch = page.locator("#documents tr", has_text="walk-scratch.md")
    expect(scratch).to_have_attribute("data-status", "ready", timeout=120_000)
    admin.check("document uploaded")
    scratch.get_by_role("link", name="Tyre pressure").click()
    page.get_by_label("Effective date").fill("2025-06-01")
    page.get_by_role("button", name="Save dates").click()
    expect(page.locator("#document-dates")).to_contain_text("Saved")
    page.get_by_role("button", name="Read them from the document again").click()
    expect(page.locator("#document-dates")).to_contain_text("read from the document again")
    admin.check("document dates set, then read from the text again")
    page.goto(admin.url("knowledge_base"))
    expect(scratch).to_have_attribute("data-status", "ready", timeout=120_000)
    scratch.get_by_role("button", name="Re-index").click()
    expect(scratch).to_have_attribute("data-status", "ready", timeout=120_000)
    scratch.get_by_role("button", name="Archive").click()
    scratch.get_by_role("button", name="Restore").click()
    expect(scratch.get_by_role("button", name="Archive")).to_be_visible()
    scratch.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(scratch).to_have_count(0)
    admin.check("document re-indexed, archived, restored and deleted")
    page.get_by_role("button", name="Release: it is safe").click()
    expect(page.locator("#quarantine")).to_contain_text("Nothing in quarantine")
    admin.check("passage released")
    sources = page.locator("#website-list tbody tr")
    sitemap_source = sources.filter(has_text="/sitemap.xml")
    sitemap_source.get_by_role("button", name="Sync now").click()
    expect(sitemap_source).to_contain_text("1 new", timeout=120_000)
    admin.check("website synced")
    sitemap_source.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(sources).to_have_count(0)
    admin.check("website removed")
    page.get_by_label("Address").fill(admin.walk.site + "/help/tyres")
    page.get_by_label("It is").select_option("crawl")
    page.get_by_role("button", name="Add website").click()
    expect(sources.filter(has_text="/help/tyres")).to_contain_text("1 new", timeout=120_000)
    admin.check("website added and synced")
    tested = page.locator("#question-test")
    tested.get_by_label("Question").fill("How long does delivery to Canada take?")
    tested.get_by_role("button", name="Search").click()
    expect(tested.locator("tr.hit").first).to_contain_text("Canada")
    admin.check("question tested")

    page.goto(admin.url("knowledge_bases"))
    page.get_by_label("Name").fill("Walk scratch")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Walk scratch", level=1)).to_be_visible()
    naming = page.locator("#knowledge-base-name")
    naming.locator("summary").click()
    naming.get_by_label("Name").fill("Walk scratch renamed")
    naming.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Walk scratch renamed", level=1)).to_be_visible()
    admin.check("knowledge base created and renamed")
    page.get_by_role("link", name="Delete this knowledge base").click()
    page.get_by_role("button", name="Delete the knowledge base").click()
    expect(page.get_by_role("heading", name="Knowledge bases")).to_be_visible()
    expect(page.get_by_role("link", name="Walk scratch renamed")).to_have_count(0)
    admin.check("knowledge base deleted")
    admin.finish()


def test_policy_actions(admin):
    page = admin.page
    page.goto(admin.url("policy"))
    page.get_by_label("Competitors").fill("RideNow")
    expect(page.locator("#policy-summary")).to_contain_text("Competitors:")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#policy-editor")).to_contain_text("Draft saved")
    sandbox = page.locator("#policy-sandbox")
    sandbox.get_by_role("textbox").fill("Policy walk: do you ship to Canada?")
    sandbox.get_by_role("button", name="Send").click()
    expect(sandbox.locator(".message--assistant")).to_have_count(1, timeout=60_000)
    admin.check("draft saved and sandbox asked")
    sandbox.get_by_role("button", name="Start over").click()
    expect(sandbox.locator(".message")).to_have_count(0)
    page.get_by_role("button", name="Run the checks").click()
    publish = page.get_by_role("button", name="Publish")
    expect(publish).to_be_visible(timeout=300_000)
    admin.check("policy checked")
    if page.get_by_role("button", name="Publish anyway").count():
        page.get_by_label("Reason").fill("The walkthrough publishes whatever the checks say.")
    publish.click()
    page.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(page.locator("#policy-versions")).to_contain_text("Version 2 (in force)")
    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    expect(page.locator("#policy-versions")).to_contain_text("Version 3 (in force)")
    admin.check("policy published and restored")
    admin.finish()


def test_evaluation_actions(admin):
    page = admin.page
    page.goto(admin.url("evaluation"))
    page.get_by_label("Suite").select_option(EvalRun.Suite.GOLDEN)
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#evaluation-progress")).to_have_count(0, timeout=120_000)
    admin.failures.extend(
        f"[admin] evaluation run: {alert}" for alert in page.get_by_role("alert").all_inner_texts()
    )
    admin.check("evaluation run finished")

    page.goto(admin.url("eval_cases"))
    form = page.locator("#eval-cases form")
    form.get_by_label("Question").fill("Walkthrough case: do you ship to Mars?")
    form.get_by_label("Expected:", exact=True).select_option(EvalCase.Expected.DONT_KNOW)
    form.get_by_role("button", name="Add").click()
    row = page.locator("#eval-cases tr", has_text="ship to Mars")
    expect(row).to_have_count(1)
    row_id = row.get_attribute("id")
    row.get_by_role("button", name="Edit").click()
    editing = page.locator(f"#{row_id}")
    editing.get_by_label("Question").fill("Walkthrough case: do you ship to the Moon?")
    editing.get_by_role("button", name="Save").click()
    row = page.locator(f"#{row_id}")
    expect(row).to_contain_text("ship to the Moon")
    admin.check("test case added and edited")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    admin.choose_file(
        "JSON lines",
        name="cases.jsonl",
        content=b'{"question": "Walkthrough import?", "expected": "dont_know"}\n',
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#eval-cases")).to_contain_text("Walkthrough import?")
    admin.check("test cases imported")
    admin.finish()


def test_gap_article_and_widget_settings(admin):
    page = admin.page
    page.goto(admin.url("gaps"))
    page.get_by_role("link", name="Write an article for this").first.click()
    page.get_by_label("Body").fill("We do not repair skateboards, only bicycles.")
    page.get_by_role("button", name="Publish into the knowledge base").click()
    expect(page.get_by_role("status").first).to_contain_text("is published")
    admin.check("gap article published")

    page.goto(admin.url("widget_settings"))
    page.get_by_label("Greeting").fill("Hi! Ask me about deliveries.")
    admin.choose_file("Avatar", name="walk.png", content=avatar_png().read())
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#widget-form")).to_contain_text("Saved.")
    page.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
    expect(page.locator("#identity-secret")).to_contain_text("A new secret is in place")
    admin.check("widget settings saved")
    admin.finish()


def test_people_actions(admin):
    page = admin.page
    page.goto(admin.url("setup"))
    admin.check("setup checklist")
    page.goto(admin.url("people"))
    people = page.locator("#people")
    page.get_by_label("E-mail address").fill("walk-new@keelson.example")
    page.get_by_label("Role:", exact=True).select_option(Membership.Role.ADMIN)
    page.get_by_role("button", name="Send the invitation").click()
    expect(people).to_contain_text("Invitation e-mailed to walk-new@keelson.example")
    admin.check("invitation sent")
    invited = page.locator(f'#invitations tr[data-invitation="{INVITED_EMAIL}"]')
    invited.get_by_role("button", name="Resend").click()
    expect(people).to_contain_text(f"Invitation e-mailed to {INVITED_EMAIL}")
    invited.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(invited).to_have_count(0)
    admin.check("invitation resent and revoked")
    spare = page.locator(f'#members tr[data-member="{SPARE_EMAIL}"]')
    spare.get_by_label("Role of Spare Agent").select_option(Membership.Role.ADMIN)
    spare.get_by_role("button", name="Change role").click()
    expect(people).to_contain_text("Spare Agent is now admin")
    spare.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(people).to_contain_text("Spare Agent is no longer a member")
    expect(spare).to_have_count(0)
    admin.check("member promoted and removed")
    log_out(page, admin.watch)
    admin.check("logged out")
    admin.finish()


def test_widget_as_customer(browser, walk):
    context, page, watch = session(browser, walk, Role.ANONYMOUS)
    page.goto("/")
    page.get_by_role("button", name="Chat with").click()
    panel = page.frame_locator("iframe#keel-panel")
    question = panel.get_by_role("textbox", name="Your question")
    question.fill("How long does delivery to Canada take?")
    question.press("Enter")
    reply = panel.locator(".message--assistant").last
    expect(reply.locator("a.cite").first).to_be_visible(timeout=60_000)
    helpful = reply.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    # The rating re-renders the whole message: a click on its old source link between
    # mouse down and up would land on nothing.
    expect(helpful).to_have_attribute("aria-pressed", "true")
    source_link = reply.locator(".sources a").first
    source_link.click()  # the passage, in a sheet inside the panel
    expect(panel.get_by_role("dialog")).to_be_visible()
    panel.get_by_role("button", name="Back to the chat").click()
    source = context.new_page()  # the source's own page, for a link opened in a new tab
    source.goto(source_link.get_attribute("href"))
    failures = [f"[customer] cited source: {p}" for p in page_problems(source)]
    source.close()
    panel.get_by_role("button", name="Talk to a person").click()
    panel.get_by_label("Leave your e-mail").fill("walker@example.com")
    panel.locator("#handoff-status").get_by_role("button", name="Send").click()
    status = panel.locator("#handoff-status")
    expect(status).to_contain_text("can contact you at walker@example.com")
    frame = page.locator("iframe#keel-panel").element_handle().content_frame()
    failures.extend(f"[customer] chat panel: {p}" for p in page_problems(frame))
    failures.extend(f"[customer] demo site: {p}" for p in page_problems(page) + watch.problems)
    screenshot(page, role=Role.ANONYMOUS, name="customer-chat")
    context.close()
    assert not failures, "\n".join(failures)


def test_every_action_was_taken():
    """Runs last (with the whole module): each POST-only route was clicked in a page
    above and taken by the server."""
    missing = sorted(ACTIONS - exercised)
    assert not missing, f"never clicked and taken: {missing}"
