"""A new company's first run in a real browser, on a real server that sends its e-mails to
a real SMTP server: Keel's operator starts the workspace, its first admin accepts the
e-mailed invitation and lands on the setup checklist, then invites an agent, who joins.
The admin adds knowledge (a file and the company's website), archives a page and publishes
the policy; a customer asks on the company's own site with nobody online and leaves an
e-mail; the agent replies from the console, by e-mail, and the customer's e-mailed answer
arrives in the console live.

Kept linear, one person after another, each in a browser context of their own. Jobs
(indexing, the website sync, the policy check, e-mails) run in a real worker drained at the
points where a person would wait for them."""

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import make_msgid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assistant.models import AuditEvent, Membership, Workspace
from tests.support.factories import UserFactory
from tests.support.people import invitation_accept_in, mailed_link_paths
from tests.support.smtp import smtp_server_running
from tests.support.website import Page, Site, SiteServer, sitemap
from tests.test_policy_pages import small_suite  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

COMPANY = "Gridline Power"
ADMIN_EMAIL = "kim@gridline-power.example"
AGENT_EMAIL = "ravi@gridline-power.example"
CUSTOMER_EMAIL = "sam.okoro@mailbox.example"
PASSWORD = "correct horse battery"  # tests.support.factories.UserFactory's
NEW_PASSWORD = "lantern orchard 4417"
INBOUND_SECRET = "inbound-secret-of-the-utility-tests"
OUTAGES = """# Power outages

## Reporting a power cut

To report a power cut, open the Outages page in your Gridline account and press
Report a power cut. We confirm every report by text message within five minutes and
send a crew to the street the same day.
"""


def utility_page(title: str, text: str) -> Page:
    return Page(
        body=(
            f"<!doctype html><html><head><title>{title} | {COMPANY}</title></head><body>"
            f'<header><nav><a href="/">Home</a></nav></header>'
            f"<main><article><h1>{title}</h1><p>{text}</p></article></main>"
            f"<footer><p>{COMPANY}, 4 Dynamo Street.</p></footer></body></html>"
        ).encode()
    )


@pytest.fixture
def smtp_inbox(settings):
    with smtp_server_running(settings=settings) as inbox:
        yield inbox


@pytest.fixture
def keel_server(keel_servers, smtp_inbox):
    """A server of its own that sends its e-mails to `smtp_inbox`, takes the mail
    provider's posts, and may fetch the tests' website on loopback."""
    [server] = keel_servers(
        1,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_inbox.port),
        EMAIL_USE_TLS="0",
        KEEL_INBOUND_SECRET=INBOUND_SECRET,
        KEEL_SYNC_ALLOW_PRIVATE="1",
    )
    return server


@pytest.fixture
def worker(job_queue, settings, smtp_inbox, small_suite):  # noqa: F811 (small_suite)
    """A real Procrastinate worker in this process, run until no job is left: here the
    policy check runs `small_suite`'s three cases (a `manage.py worker` process would run
    the whole red-team suite), and its e-mails go to `smtp_inbox` by this process's settings."""
    settings.KEEL_SYNC_ALLOW_PRIVATE = True
    settings.KEEL_SYNC_DELAY_SECONDS = 0

    def run() -> None:
        with ThreadPoolExecutor(max_workers=1) as thread:  # Playwright's loop owns this one
            thread.submit(job_queue).result()

    return run


@pytest.fixture
def utility_site():
    site = Site()
    with SiteServer(site) as url:
        site.pages["/help/meters"] = utility_page(
            "Meter readings", "Send a meter reading from your account before the 5th."
        )
        site.pages["/help/tariff-2023"] = utility_page(
            "Tariffs for 2023", "The 2023 standing charge was 41 pence a day."
        )
        site.pages["/sitemap.xml"] = Page(
            body=sitemap("/help/meters", "/help/tariff-2023", base=url),
            content_type="application/xml",
        )
        yield site


@pytest.fixture
def company_site(tmp_path):
    """The company's own site, where it pastes Keel's snippet: (its folder, its address)."""
    folder = tmp_path / "site"
    folder.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=folder)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def email_post(url: str, mail: EmailMessage) -> int:
    """Posts `mail` to Keel's inbound webhook as a mail provider does; the status."""
    request = urllib.request.Request(
        url,
        data=bytes(mail),
        method="POST",
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {INBOUND_SECRET}"},
    )
    with urllib.request.urlopen(request) as response:
        return response.status


def test_a_company_starts_and_runs_keel_alone(
    keel_server, browser, page, smtp_inbox, worker, utility_site, company_site, tmp_path
):
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
    [admin_link] = mailed_link_paths(smtp_inbox, to=ADMIN_EMAIL)
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
    [agent_link] = mailed_link_paths(smtp_inbox, to=AGENT_EMAIL)

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
    agent_context.close()  # the agent goes home: nobody is online in the console

    # The admin uploads the outages article and adds the company's website.
    knowledge_base = workspace.knowledge_bases.get()
    admin.goto(reverse("knowledge_base", args=[workspace.slug, knowledge_base.slug]))
    (tmp_path / "outages.md").write_text(OUTAGES)
    admin.get_by_label("Markdown, HTML, plain text or PDF files").set_input_files(
        tmp_path / "outages.md"
    )
    admin.get_by_role("button", name="Upload").click()
    expect(admin.locator("#upload-result")).to_contain_text("outages.md: added, queued")
    admin.get_by_label("Address").fill(utility_site.url + "/sitemap.xml")
    admin.get_by_label("It is").select_option("sitemap")
    admin.get_by_label("Sync again").select_option("manual")
    admin.get_by_role("button", name="Add website").click()
    expect(admin.locator("#website-list")).to_contain_text(utility_site.url + "/sitemap.xml")
    worker()
    admin.reload()
    documents = admin.locator("#documents tbody tr")
    expect(documents).to_have_count(3)
    for title in ("Power outages", "Meter readings", "Tariffs for 2023"):
        expect(documents.filter(has_text=title).locator(".status")).to_have_text("Ready")
    expect(admin.locator("#website-list .status")).to_contain_text("Synced")

    # It reads what Keel extracted from the article, then archives last year's tariffs.
    documents.get_by_role("link", name="Power outages").click()
    passages = admin.locator("#passages li.passage")
    expect(passages.first).to_contain_text("Power outages > Reporting a power cut")
    expect(passages.first).to_contain_text("press Report a power cut")
    admin.go_back()
    documents.filter(has_text="Tariffs for 2023").get_by_role("button", name="Archive").click()
    expect(documents.filter(has_text="Tariffs for 2023")).to_contain_text("archived, not searched")

    # It tries the assistant in the sandbox, then checks a draft of the policy and
    # publishes it, confirming in the dialog.
    admin.goto(reverse("policy", args=[workspace.slug]))
    sandbox = admin.locator("#policy-sandbox")
    sandbox.get_by_role("textbox").fill("How do I report a power cut?")
    sandbox.get_by_role("button", name="Send").click()
    # The server's first question loads its models (rails, embeddings): seconds.
    expect(sandbox).to_contain_text("Report a power cut", timeout=60_000)
    admin.get_by_label("Competitors").fill("Voltano Energy")
    admin.get_by_role("button", name="Save draft").click()
    expect(admin.locator("#policy-editor")).to_contain_text("Draft saved")
    admin.get_by_role("button", name="Run the checks").click()
    expect(admin.locator("#policy-check")).to_contain_text("Checking the draft")
    worker()
    publish = admin.get_by_role("button", name="Publish")
    expect(publish).to_be_visible()
    if admin.get_by_role("button", name="Publish anyway").count():
        admin.get_by_label("Reason").fill("The test publishes whatever the checks say.")
    publish.click()
    admin.get_by_role("dialog").get_by_role("button", name="Publish").click()
    expect(admin.locator("#policy-versions")).to_contain_text("Version 2 (in force)")

    # It lets the company's site embed the chat and pastes the snippet there.
    site_folder, site_url = company_site
    admin.goto(reverse("widget_settings", args=[workspace.slug]))
    admin.get_by_label("Allowed origins").fill(site_url)
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#widget-form")).to_contain_text("Saved.")
    snippet = admin.locator("pre.snippet code").first.inner_text()
    (site_folder / "index.html").write_text(
        f"<!doctype html><title>{COMPANY}</title><h1>{COMPANY}</h1>{snippet}"
    )

    # A customer asks on the company's site and gets a cited answer; nobody is online, so
    # they leave their e-mail address.
    customer_context = browser.new_context()
    customer = customer_context.new_page()
    customer.goto(site_url + "/index.html")
    customer.get_by_role("button", name="Chat with").click()
    panel = customer.frame_locator("iframe#keel-panel")
    panel.get_by_role("textbox", name="Your question").fill("How do I report a power cut?")
    panel.get_by_role("button", name="Send").click()
    answer = panel.locator(".message--assistant").last
    expect(answer.locator("a.cite").first).to_be_visible()
    expect(answer).to_contain_text("Report a power cut")
    panel.get_by_role("button", name="Talk to a person").click()
    panel.get_by_label("Leave your e-mail address").fill(CUSTOMER_EMAIL)
    panel.get_by_label("Leave your e-mail address").press("Enter")
    expect(panel.locator("#handoff-status")).to_contain_text(f"contact you at {CUSTOMER_EMAIL}")
    worker()  # the acknowledgement goes out

    # The agent logs in, takes the ticket in the console and replies.
    agent_context = browser.new_context(base_url=keel_server)
    agent = agent_context.new_page()
    agent.goto(reverse("console", args=[workspace.slug]))
    agent.get_by_label("Username").fill(AGENT_EMAIL)
    agent.get_by_label("Password").fill(NEW_PASSWORD)
    agent.get_by_role("button", name="Log in").click()
    waiting = agent.locator("#queue ol.queue li")
    expect(waiting).to_have_count(1)
    waiting.get_by_role("link").click()
    agent.get_by_role("button", name="Take this conversation").click()
    reply = agent.get_by_label("Reply to the customer")
    reply.fill("A crew is on your street this afternoon.")
    reply.press("Enter")
    expect(agent.locator("#transcript .message--agent")).to_contain_text("A crew is on your")
    worker()  # the reply goes out by e-mail

    # The reply arrives at the SMTP server, addressed to the customer.
    to_customer = [mail for mail in smtp_inbox.mails if mail.envelope_to == [CUSTOMER_EMAIL]]
    acknowledgement, sent = to_customer
    assert "A crew is on your street" in sent.message.get_body(("plain",)).get_content()
    assert sent.message["In-Reply-To"] == acknowledgement.message["Message-ID"]

    # The customer answers from their mail client; the provider posts it to Keel, and the
    # agent sees it arrive without reloading.
    agent.evaluate("window.notReloaded = true")
    answered = EmailMessage()
    answered["From"] = f"Sam Okoro <{CUSTOMER_EMAIL}>"
    answered["To"] = sent.message["Reply-To"]
    answered["Subject"] = "Re: " + sent.message["Subject"]
    answered["Message-ID"] = make_msgid(domain="mailbox.example")
    answered["In-Reply-To"] = answered["References"] = sent.message["Message-ID"]
    answered.set_content("Thank you, the lights are back on.")
    assert email_post(keel_server + reverse("ticket_inbound"), answered) == 204
    expect(agent.locator("#transcript")).to_contain_text("Thank you, the lights are back on.")
    assert agent.evaluate("window.notReloaded") is True
    agent_context.close()
    customer_context.close()

    # Every step of the admin's checklist is done.
    admin.goto(reverse("setup", args=[workspace.slug]))
    expect(admin.locator('#setup-steps > li[data-done="yes"]')).to_have_count(4)
    admin_context.close()
