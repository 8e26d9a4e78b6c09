"""The walkthrough: a real browser (Debian's chromium) against a real daphne process and a
real worker opens every page of the URLconf as anonymous, agent, admin and admin of another
workspace, clicks the main actions as admin and chats as a customer. It fails on a server
error, a failed request, a console error, an exception's text, a control without a name or
with contrast below AA, and on refused access that is not refused (or the other way round).

One server, one worker and one set of objects serve the whole module; the objects are
committed, and removed afterwards."""

import mimetypes
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import Resolver404, resolve
from PIL import Image
from playwright.sync_api import expect

from assistant.answering.pipeline import answer
from assistant.answering.sandbox import sandbox_reply
from assistant.conversations.services import conversation_start
from assistant.evaluation.services import evaluation_start
from assistant.handoffs.requests import person_requested
from assistant.models import (
    CannedReply,
    Citation,
    EvalCase,
    EvalRun,
    Handoff,
    Invitation,
    Membership,
    Message,
    Workspace,
)
from assistant.people.invitations import invitation_link
from assistant.tickets.addresses import transcript_token
from assistant.widget.demo import DEMO_KNOWLEDGE_DIR, DEMO_WORKSPACE_SLUG
from assistant.widget.views import AVATARS
from knowledge.ingest import files_ingest
from knowledge.models import Chunk, Document, WebsiteSource
from tests.conftest import (
    daphne_start,
    free_port,
    keel_process_environment,
    processes_stop,
    wait_for_port,
)
from tests.support.factories import (
    KnowledgeBaseFactory,
    MembershipFactory,
    PolicyVersionFactory,
    WorkspaceFactory,
)
from tests.support.walkthrough import (
    ACTIONS,
    EXCEPTION_TEXT,
    ROUTES,
    Access,
    Kind,
    Outcome,
    Role,
    Route,
    Watch,
    outcome_for,
    page_problems,
    route_url,
    screenshot,
    url_routes,
)
from tests.support.website import Page, Site, SiteServer, sitemap

# The marker has pytest-django set up the test database; the walk's objects are committed
# by the module's fixture (in a thread of its own: Playwright runs an event loop in this one).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PASSWORD = "correct horse battery"
COMPANY = "Keelson Cycles"  # only the first workspace's staff may see it
OTHER_COMPANY = "Other Rides"
PROCRASTINATE_EMPTY = (
    "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
    "procrastinate_workers CASCADE"
)
ORDER = "KW-5512"  # in the first workspace's customer conversation
METRICS_TOKEN = "walkthrough-metrics-token"
SPARE_EMAIL = "spare@keelson.example"  # an agent the people actions promote and remove
INVITED_EMAIL = "invited@keelson.example"  # invited, not yet joined
SANDBOX_QUESTION = "I want to talk to a person, not a bot."
# The actions a page clicked and the server took (not refused, nor sent to log in first).
exercised: set[str] = set()


@dataclass
class Walk:
    server: str
    site: str  # the company's own website, served on loopback for its website source
    users: dict[Role, str]
    values: dict  # a route parameter's name → a real object's key in the first workspace
    secrets: tuple[str, ...]


def _avatar_png() -> ContentFile:
    image = BytesIO()
    Image.new("RGB", (64, 64), "#1f6feb").save(image, format="PNG")
    return ContentFile(image.getvalue(), name="walk-avatar.png")


def _walk_objects(*, site: str) -> tuple[dict[Role, str], dict]:
    """Two workspaces and, in the first, one of everything a page shows: documents (one
    passage quarantined), answered and handed-off conversations, a sandbox chat that went
    to a person, a question the knowledge base could not answer, a test case, a run, a
    website source (`site`'s sitemap)."""
    with connection.cursor() as cursor:
        cursor.execute(PROCRASTINATE_EMPTY)
    workspace = WorkspaceFactory(slug=DEMO_WORKSPACE_SLUG, name=COMPANY)
    workspace.avatar.save("walk-avatar.png", _avatar_png())
    knowledge_base = KnowledgeBaseFactory(workspace=workspace, slug="help-center")
    articles = ["shipping-to-canada.html", "returns-and-refunds.md", "order-tracking.md"]
    list(
        files_ingest(
            knowledge_base=knowledge_base, paths=[DEMO_KNOWLEDGE_DIR / name for name in articles]
        )
    )
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN).user
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT).user
    other_admin = MembershipFactory(
        workspace=WorkspaceFactory(name=OTHER_COMPANY), role=Membership.Role.ADMIN
    ).user
    spare = MembershipFactory(
        workspace=workspace,
        role=Membership.Role.AGENT,
        user__email=SPARE_EMAIL,
        user__first_name="Spare Agent",
    )
    invitation = Invitation.objects.create(
        workspace=workspace, email=INVITED_EMAIL, role=Membership.Role.AGENT, invited_by=admin
    )
    PolicyVersionFactory(workspace=workspace)

    asked, _ = conversation_start(workspace=workspace, visitor_key="walk-visitor", customer_id="")
    reply = async_to_sync(answer)(
        conversation=asked,
        text=f"How long does delivery to Canada take for order {ORDER}? I'm jo@example.com",
    )
    person_requested(conversation=asked)
    handed_back, _ = conversation_start(
        workspace=workspace, visitor_key="walk-other", customer_id=""
    )
    async_to_sync(answer)(conversation=handed_back, text="How do I track my order?")
    person_requested(conversation=handed_back)
    unanswered, _ = conversation_start(workspace=workspace, visitor_key="walk-gap", customer_id="")
    async_to_sync(answer)(conversation=unanswered, text="Do you repair skateboards?")
    sandbox = async_to_sync(sandbox_reply)(
        workspace_id=workspace.pk, text=SANDBOX_QUESTION, label=f"staff-{admin.pk}"
    ).conversation
    # Else the walk could not tell whether the console lists sandbox conversations.
    assert Handoff.objects.filter(conversation=sandbox).exists()

    quarantined = Chunk.objects.filter(
        knowledge_base=knowledge_base, document__source__contains="returns-and-refunds"
    ).first()
    Chunk.objects.filter(pk=quarantined.pk).update(
        quarantined=True, quarantine_reason="Reads like instructions to an assistant."
    )
    case = EvalCase.objects.create(
        workspace=workspace,
        question="How long does delivery to Canada take?",
        expected=EvalCase.Expected.ANSWER,
    )
    run = evaluation_start(workspace=workspace, suite=EvalRun.Suite.GOLDEN, draft=False)
    website = WebsiteSource.objects.create(
        knowledge_base=knowledge_base,
        start_url=f"{site}/sitemap.xml",
        schedule=WebsiteSource.Schedule.MANUAL,
    )
    canned = CannedReply.objects.create(
        workspace=workspace, shortcut="walk-refund", title="Refunds", body="Refunds take a week."
    )
    users = {Role.ADMIN: admin, Role.AGENT: agent, Role.OTHER_ADMIN: other_admin}
    values = {
        "workspace_slug": workspace.slug,
        "knowledge_base_slug": knowledge_base.slug,
        "document_id": Document.objects.filter(knowledge_base=knowledge_base).first().pk,
        "chunk_id": quarantined.pk,
        "conversation_id": asked.pk,
        "message_id": reply.pk,
        "number": 1,
        "run_id": run.pk,
        "case_id": case.pk,
        "public_key": workspace.public_key,
        "name": workspace.avatar.name.removeprefix(f"{AVATARS}/"),
        "citation_id": Citation.objects.filter(message=reply).first().public_id,
        "gap_question_id": Message.objects.get(
            conversation=unanswered, role=Message.Role.CUSTOMER
        ).pk,
        "handed_back_id": handed_back.pk,
        "sandbox_conversation_id": sandbox.pk,
        "source_id": website.pk,
        "transcript_token": transcript_token(conversation_id=asked.pk),
        "invitation_id": invitation.pk,
        "invitation_token": invitation_link(invitation).rsplit("/", 2)[-2],
        "membership_id": spare.pk,
        "uidb64": "MQ",
        "token": "no-longer-valid",
        "canned_reply_id": canned.pk,
    }
    return {role: user.username for role, user in users.items()}, values


def _worker_start() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "worker"],
        env=keel_process_environment(),
    )


def _in_own_thread(function):
    """`function()` on a fresh thread, with its own database connection, closed after."""

    def run():
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()


def _walk_objects_remove() -> None:
    workspaces = Workspace.objects.filter(name__in=[COMPANY, OTHER_COMPANY])
    users = get_user_model().objects.filter(memberships__workspace__in=workspaces)
    users.delete()
    workspaces.delete()
    with connection.cursor() as cursor:
        cursor.execute(PROCRASTINATE_EMPTY)


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker, browser):
    """The server and the worker run without DJANGO_ALLOW_ASYNC_UNSAFE (which the browser
    fixture sets for this process): an async-unsafe call in them must fail the walk.

    Playwright starts first, so that the tests' database connection is opened after it and
    is the one closed here."""
    port = free_port()
    site = Site()
    site.html("/help/tyres", "Tyres", "<p>Pump road tyres to 80 psi before a long ride.</p>")
    served = SiteServer(site)
    site.pages["/sitemap.xml"] = Page(
        body=sitemap("/help/tyres", base=site.url), content_type="application/xml"
    )
    with served as site_url:
        with pytest.MonkeyPatch.context() as environment:
            environment.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
            # The server and the worker may fetch the company's site on loopback, at once.
            environment.setenv("KEEL_SYNC_ALLOW_PRIVATE", "1")
            environment.setenv("KEEL_SYNC_DELAY_SECONDS", "0")
            server = daphne_start(port=port, KEEL_METRICS_TOKEN=METRICS_TOKEN)
            worker = _worker_start()
        yield from _walk_served(
            server=server, worker=worker, port=port, site=site_url, blocker=django_db_blocker
        )


def _walk_served(*, server, worker, port: int, site: str, blocker):
    try:
        with blocker.unblock():
            users, values = _in_own_thread(lambda: _walk_objects(site=site))
        wait_for_port(server, port, name="daphne")
        yield Walk(
            server=f"http://localhost:{port}",
            site=site,
            users=users,
            values=values,
            secrets=(COMPANY, ORDER),
        )
    finally:
        processes_stop([server, worker])
        with blocker.unblock():
            _in_own_thread(_walk_objects_remove)
        # The tests' own connection (pytest-django's atomic around each): left open, the
        # test database could not be dropped at the end of the session.
        connection.close()


def _exercised(response) -> None:
    request = response.request
    if request.method != "POST":
        return
    refused = response.status >= 400 or "/login/?next=" in response.headers.get("location", "")
    try:
        name = resolve(urlsplit(request.url).path).url_name
    except Resolver404:
        return
    if not refused:
        exercised.add(name)


def _session(browser, walk: Walk, role: Role):
    """A browser context signed in as `role`, watched; its page."""
    context = browser.new_context(base_url=walk.server)
    watch = Watch()
    watch.attach(context)
    context.on("response", _exercised)
    page = context.new_page()
    page.goto("/login/")
    if role is not Role.ANONYMOUS:
        page.get_by_label("Username").fill(walk.users[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: urlsplit(url).path != "/login/")
    return context, page, watch


def _visit(
    page, watch: Watch, *, url: str, outcome: Outcome, secrets, sandbox_id: int
) -> list[str]:
    page.goto("about:blank")
    watch.clear(expected_document_status=None if outcome is Outcome.SHOWN else outcome.value)
    response = page.goto(url)
    problems = []
    at_login = urlsplit(page.url).path == "/login/" and not url.startswith("/login/")
    if outcome is Outcome.LOGIN:
        if not at_login:
            problems.append(f"expected the login page, got {response.status} at {page.url}")
    elif at_login:
        problems.append("sent to the login page")
    elif response.status != outcome.value:
        problems.append(f"expected {outcome.value}, got {response.status}")
    if sandbox_links := page.locator(f'a[href$="/conversations/{sandbox_id}/"]').count():
        problems.append(f"{sandbox_links} links to a sandbox conversation (not a customer's)")
    flashes = page.locator("#toasts .toast").all_inner_texts()
    if flashes:
        problems.append(f"{len(flashes)} flash messages on a page opened with GET: {flashes[:3]}")
    # A refusal is Django's plain error page (or the login page, checked on its own route).
    shown = outcome is Outcome.SHOWN
    problems.extend(page_problems(page, secrets=secrets, accessibility=shown))
    return problems + watch.problems


def _fetch(context, *, url: str, access: Access, outcome: Outcome, secrets) -> list[str]:
    token = {"Authorization": f"Bearer {METRICS_TOKEN}"} if access is Access.TOKEN else {}
    response = context.request.get(url, headers=token)
    body = response.text()
    problems = [f"shows {secret!r}" for secret in secrets if secret in body]
    if found := EXCEPTION_TEXT.search(body):
        problems.append(f"shows exception text {found.group()!r}")
    at_login = urlsplit(response.url).path == "/login/"
    if outcome is Outcome.LOGIN:
        if not at_login:
            problems.append(f"expected the login page, got {response.status} at {response.url}")
    elif at_login or response.status != outcome.value:
        problems.append(f"expected {outcome.value}, got {response.status} at {response.url}")
    return problems


def _post_refused(context, *, url: str, outcome: Outcome, secrets) -> list[str]:
    """A real CSRF-carrying POST from someone the action must refuse."""
    csrf = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
    response = context.request.post(url, headers={"X-CSRFToken": csrf}, max_redirects=0)
    body = response.text()
    problems = [f"shows {secret!r}" for secret in secrets if secret in body]
    if outcome is Outcome.LOGIN:
        if response.status != 302 or "/login/" not in response.headers.get("location", ""):
            problems.append(f"POST: expected a redirect to log in, got {response.status}")
    elif response.status != outcome.value:
        problems.append(f"POST: expected {outcome.value}, got {response.status}")
    return problems


def _route_problems(route: Route, *, role: Role, walk: Walk, context, page, watch) -> list[str]:
    expected = ROUTES.get(route.name)
    if expected is None:
        return ["no expectation for this URL pattern in tests/support/walkthrough.py ROUTES"]
    try:
        url = route_url(route, values=walk.values)
    except KeyError as missing:
        return [f"the walk has no object for <{missing.args[0]}>"]
    outcome = outcome_for(role=role, access=expected.access)
    secrets = (
        walk.secrets if role is Role.OTHER_ADMIN and expected.access is not Access.PUBLIC else ()
    )
    if expected.kind is Kind.ACTION:
        # Who may take it clicks it in the action tests; everyone else is refused here.
        if outcome is Outcome.SHOWN:
            return []
        return _post_refused(context, url=url, outcome=outcome, secrets=secrets)
    if expected.kind is Kind.FILE:
        return _fetch(context, url=url, access=expected.access, outcome=outcome, secrets=secrets)
    problems = _visit(
        page,
        watch,
        url=url,
        outcome=outcome,
        secrets=secrets,
        sandbox_id=walk.values["sandbox_conversation_id"],
    )
    screenshot(page, role=role, name=route.name)
    return problems


def test_the_map_matches_the_urlconf():
    """Fast, without a browser: a new URL pattern needs an expectation, and a removed one
    leaves none behind."""
    names = {route.name for route in url_routes()}
    assert not names - set(ROUTES), (
        f"URL patterns the walk has no expectation for: {names - set(ROUTES)}"
    )
    assert not set(ROUTES) - names, f"expectations for no URL pattern: {set(ROUTES) - names}"


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.name.lower())
def test_every_route_as(role, walk, browser):
    """Every URL pattern, its parameters filled with the first workspace's objects."""
    context, page, watch = _session(browser, walk, role)
    failures = []
    for route in url_routes():
        problems = _route_problems(
            route, role=role, walk=walk, context=context, page=page, watch=watch
        )
        failures.extend(f"[{role.value}] {route.name} (/{route.pattern}): {p}" for p in problems)
    if role is not Role.ANONYMOUS:
        page.goto("/console/")
        watch.clear()
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
        failures.extend(f"[{role.value}] logout: {p}" for p in watch.problems)
    context.close()
    assert not failures, "\n".join(failures)


class AdminActions:
    """An admin's session for the action tests: `check` collects what is wrong on the page
    after each step, labelled, and the test fails on all of it at the end."""

    def __init__(self, browser, walk: Walk):
        self.context, self.page, self.watch = _session(browser, walk, Role.ADMIN)
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
    admin.choose_file("Avatar", name="walk.png", content=_avatar_png().read())
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
    admin.finish()


def test_widget_as_customer(browser, walk):
    context, page, watch = _session(browser, walk, Role.ANONYMOUS)
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
