"""The walkthrough's world: two workspaces with one of everything a page shows, committed,
served by a real daphne process and a real worker, and browser sessions signed in as each
role. `tests/walkthrough/` walks it: its pages as every role in one file, the admin's
actions and a customer's chat in another, so that two test processes share the walk.

The server and the worker run without DJANGO_ALLOW_ASYNC_UNSAFE (which the browser
fixture sets for the test process): an async-unsafe call in them must fail the walk."""

import subprocess
import sys
from collections.abc import Iterator
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
from tests.support.walkthrough import Role, Watch
from tests.support.website import Page, Site, SiteServer, sitemap

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


def avatar_png() -> ContentFile:
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
    workspace.avatar.save("walk-avatar.png", avatar_png())
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


def walk_served(*, blocker) -> Iterator[Walk]:
    """The walk, for a module fixture that has started the browser (Playwright) first, so
    that the tests' database connection is opened after it and is the one closed here;
    `blocker`: pytest-django's `django_db_blocker`."""
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
        yield from _walk_running(
            server=server, worker=worker, port=port, site=site_url, blocker=blocker
        )


def _walk_running(*, server, worker, port: int, site: str, blocker):
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


def session(browser, walk: Walk, role: Role):
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


def log_out(page, watch: Watch) -> None:
    """Logs out with the console's button; `watch` then holds what went wrong from the
    click on."""
    page.goto("/console/")
    watch.clear()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
