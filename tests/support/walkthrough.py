"""The walkthrough's map of Keel: every URL pattern from the URLconf, who may open it, and
what a real browser must never meet on it (a server error, a failed request, a console
error, an unnamed or unreadable control, an exception's text).

A pattern missing from `ROUTES` (and from `NOT_WALKED`) fails the walk with its name, so a
new page cannot be left out."""

import enum
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.urls import URLPattern, URLResolver, get_resolver, reverse

SCREENSHOTS = Path(__file__).parent.parent / "walkthrough-screenshots"
# With KEEL_DOCS_SCREENSHOTS=1 the walk also writes the main pages, at one window size, into
# docs/screenshots/ (the README's tour), so the pictures there stay true.
DOCS_SCREENSHOTS = Path(__file__).parent.parent.parent / "docs" / "screenshots"
DOCS_VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 390, "height": 800}

# Patterns deliberately not walked, with the reason.
NOT_WALKED = {
    "admin/": "Django's own admin site: Django tests it; Keel only registers models there",
    "tickets/inbound/": "a mail provider's POST of raw e-mail with the inbound secret, no "
    "page: tests/test_tickets.py posts to it",
}


class Access(enum.Enum):
    PUBLIC = "anyone"
    TOKEN = "anyone with the metrics token (KEEL_METRICS_TOKEN)"
    SIGNED_IN = "anyone signed in"
    STAFF = "agents and admins of the workspace"
    ADMIN = "admins of the workspace"
    SUPERUSER = "Keel's operators (superusers), none of the walk's roles"


class Kind(enum.Enum):
    PAGE = "a page (or an htmx partial) opened with GET"
    FILE = "a download (CSV, JSON, metrics) fetched with GET"
    ACTION = "POST only: clicked in the pages by the action tests"


@dataclass(frozen=True)
class Expectation:
    access: Access
    kind: Kind
    query: str = ""  # a query string the page needs, with {value} fields


ROUTES = {
    "demo_site": Expectation(Access.PUBLIC, Kind.PAGE),
    "home": Expectation(Access.SIGNED_IN, Kind.PAGE),
    "favicon": Expectation(Access.PUBLIC, Kind.FILE),
    "health": Expectation(Access.PUBLIC, Kind.FILE),
    "metrics": Expectation(Access.TOKEN, Kind.FILE),
    "console_home": Expectation(Access.SIGNED_IN, Kind.PAGE),
    "console": Expectation(Access.STAFF, Kind.PAGE),
    "console_conversation": Expectation(Access.STAFF, Kind.PAGE),
    "console_claim": Expectation(Access.STAFF, Kind.ACTION),
    "console_reply": Expectation(Access.STAFF, Kind.ACTION),
    "console_hand_back": Expectation(Access.STAFF, Kind.ACTION),
    "console_resolve": Expectation(Access.STAFF, Kind.ACTION),
    "console_note": Expectation(Access.STAFF, Kind.ACTION),
    "console_save_case": Expectation(Access.STAFF, Kind.ACTION),
    "console_vault": Expectation(Access.STAFF, Kind.ACTION),
    "console_notifications": Expectation(Access.STAFF, Kind.PAGE),
    "ticket_transcript": Expectation(Access.PUBLIC, Kind.PAGE),
    "canned_replies": Expectation(Access.ADMIN, Kind.PAGE),  # GET the list, POST a new one
    "canned_replies_json": Expectation(Access.STAFF, Kind.FILE),
    "canned_reply_edit": Expectation(Access.ADMIN, Kind.PAGE),  # GET the form, POST it
    "canned_reply_delete": Expectation(Access.ADMIN, Kind.ACTION),
    "chat_panel": Expectation(Access.PUBLIC, Kind.PAGE),
    "widget_avatar": Expectation(Access.PUBLIC, Kind.FILE),
    "cited_source": Expectation(Access.PUBLIC, Kind.PAGE),
    "login": Expectation(Access.PUBLIC, Kind.PAGE),
    "logout": Expectation(Access.SIGNED_IN, Kind.ACTION),
    "knowledge_bases": Expectation(Access.ADMIN, Kind.PAGE),
    "knowledge_base": Expectation(Access.ADMIN, Kind.PAGE),
    "knowledge_base_rename": Expectation(Access.ADMIN, Kind.ACTION),
    "knowledge_base_delete": Expectation(Access.ADMIN, Kind.PAGE),  # GET the question, POST it
    "knowledge_question": Expectation(
        Access.ADMIN, Kind.PAGE, query="question=How+long+does+delivery+take"
    ),
    "document_table": Expectation(Access.ADMIN, Kind.PAGE),
    "document_upload": Expectation(Access.ADMIN, Kind.ACTION),
    "document_delete": Expectation(Access.ADMIN, Kind.ACTION),
    "document_archive": Expectation(Access.ADMIN, Kind.ACTION),
    "document_reindex": Expectation(Access.ADMIN, Kind.ACTION),
    "document": Expectation(Access.ADMIN, Kind.PAGE),
    "document_dates": Expectation(Access.ADMIN, Kind.ACTION),
    "knowledge_conflicts": Expectation(Access.ADMIN, Kind.PAGE),
    "website_sources": Expectation(Access.ADMIN, Kind.PAGE),
    "website_add": Expectation(Access.ADMIN, Kind.ACTION),
    "website_sync": Expectation(Access.ADMIN, Kind.ACTION),
    "website_remove": Expectation(Access.ADMIN, Kind.ACTION),
    "chunk_release": Expectation(Access.ADMIN, Kind.ACTION),
    "widget_settings": Expectation(Access.ADMIN, Kind.PAGE),
    "widget_identity_secret": Expectation(Access.ADMIN, Kind.ACTION),
    "audit_log": Expectation(Access.ADMIN, Kind.PAGE),
    "analytics": Expectation(Access.ADMIN, Kind.PAGE),
    "analytics_conversations_csv": Expectation(Access.ADMIN, Kind.FILE),
    "answer": Expectation(Access.STAFF, Kind.PAGE),
    "answer_trace": Expectation(Access.STAFF, Kind.FILE),
    "policy": Expectation(Access.ADMIN, Kind.PAGE),
    "policy_draft": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_draft_summary": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_sandbox": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_sandbox_clear": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_check": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_check_status": Expectation(Access.ADMIN, Kind.PAGE),
    "policy_publish": Expectation(Access.ADMIN, Kind.ACTION),
    "policy_restore": Expectation(Access.ADMIN, Kind.ACTION),
    "gaps": Expectation(Access.ADMIN, Kind.PAGE),
    "gap_article": Expectation(Access.ADMIN, Kind.PAGE, query="questions={gap_question_id}"),
    "gap_article_publish": Expectation(Access.ADMIN, Kind.ACTION),
    "evaluation": Expectation(Access.ADMIN, Kind.PAGE),
    "evaluation_start": Expectation(Access.ADMIN, Kind.ACTION),
    "evaluation_runs": Expectation(Access.ADMIN, Kind.PAGE),
    "evaluation_run": Expectation(Access.ADMIN, Kind.PAGE),
    "evaluation_progress": Expectation(Access.ADMIN, Kind.PAGE),
    "evaluation_json": Expectation(Access.ADMIN, Kind.FILE),
    "eval_cases": Expectation(Access.ADMIN, Kind.PAGE),
    "eval_case_add": Expectation(Access.ADMIN, Kind.ACTION),
    "eval_cases_import": Expectation(Access.ADMIN, Kind.ACTION),
    "eval_cases_export": Expectation(Access.ADMIN, Kind.FILE),
    "eval_case": Expectation(Access.ADMIN, Kind.PAGE),
    "eval_case_edit": Expectation(Access.ADMIN, Kind.PAGE),  # GET the form, POST it (actions)
    "eval_case_delete": Expectation(Access.ADMIN, Kind.ACTION),
    "workspace_switch": Expectation(Access.STAFF, Kind.PAGE),
    "setup": Expectation(Access.ADMIN, Kind.PAGE),
    "people": Expectation(Access.ADMIN, Kind.PAGE),
    "invitation_create": Expectation(Access.ADMIN, Kind.ACTION),
    "invitation_resend": Expectation(Access.ADMIN, Kind.ACTION),
    "invitation_revoke": Expectation(Access.ADMIN, Kind.ACTION),
    "member_role": Expectation(Access.ADMIN, Kind.ACTION),
    "member_remove": Expectation(Access.ADMIN, Kind.ACTION),
    "start": Expectation(Access.SUPERUSER, Kind.PAGE),  # GET the form, POST it (its own tests)
    "invitation_accept": Expectation(Access.PUBLIC, Kind.PAGE),  # likewise
    "password_reset": Expectation(Access.PUBLIC, Kind.PAGE),
    "password_reset_done": Expectation(Access.PUBLIC, Kind.PAGE),
    "password_reset_confirm": Expectation(Access.PUBLIC, Kind.PAGE),  # a link no longer valid
    "password_reset_complete": Expectation(Access.PUBLIC, Kind.PAGE),
}
# Pages whose POST is an action too: a test case edited in place, a new knowledge base,
# a deletion confirmed.
ACTIONS = {name for name, expected in ROUTES.items() if expected.kind is Kind.ACTION} | {
    "eval_case_edit",
    "knowledge_bases",  # a new one
    "knowledge_base_delete",
    "canned_replies",
    "canned_reply_edit",
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # the whole route, e.g. "w/<slug:workspace_slug>/policy/"

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.pattern)


def url_routes(patterns=None, prefix: str = "") -> list[Route]:
    """Every named pattern of the URLconf, through its includes, but those in NOT_WALKED."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        whole = prefix + str(entry.pattern)
        if whole in NOT_WALKED:
            continue
        if isinstance(entry, URLResolver):
            routes.extend(url_routes(entry.url_patterns, whole))
        elif isinstance(entry, URLPattern):
            routes.append(Route(name=entry.name or whole, pattern=whole))
    return routes


def route_url(route: Route, *, values: dict) -> str:
    """The route's path with its parameters (and query) filled from the walk's objects;
    KeyError names a parameter the walk has no object for."""
    path = reverse(route.name, kwargs={name: values[name] for name in route.parameters})
    query = ROUTES[route.name].query.format(**values)
    return f"{path}?{query}" if query else path


class Role(enum.Enum):
    ANONYMOUS = "anonymous"
    AGENT = "agent"
    ADMIN = "admin"
    OTHER_ADMIN = "admin of another workspace"


class Outcome(enum.Enum):
    SHOWN = 200
    LOGIN = "the login page"
    FORBIDDEN = 403
    NOT_FOUND = 404


def outcome_for(*, role: Role, access: Access) -> Outcome:
    """What `role` gets from a route of the first workspace (or a public one)."""
    if access in (Access.PUBLIC, Access.TOKEN):
        return Outcome.SHOWN
    if role is Role.ANONYMOUS:
        return Outcome.LOGIN
    if access is Access.SIGNED_IN:
        return Outcome.SHOWN
    if access is Access.SUPERUSER:
        return Outcome.FORBIDDEN
    if role is Role.OTHER_ADMIN:
        return Outcome.NOT_FOUND
    if role is Role.AGENT and access is Access.ADMIN:
        return Outcome.FORBIDDEN
    return Outcome.SHOWN


# Text that only an exception's page shows (Django's debug page included).
EXCEPTION_TEXT = re.compile(
    r"Traceback|Exception|SynchronousOnlyOperation|Server Error \(500\)|DEBUG = True"
)
AXE_RULES = ["color-contrast", "button-name", "link-name", "input-button-name", "image-alt"]
_axe = Axe()


@dataclass
class Watch:
    """What one browser context met since `clear()`: console errors, uncaught script
    errors, failed requests, error responses. Refusals the walk expects are let through."""

    problems: list[str] = field(default_factory=list)
    expected_document_status: int | None = None

    def attach(self, context) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"script error: {error.error}"))
        context.on("requestfailed", self._failed)
        context.on("response", self._response)

    def clear(self, *, expected_document_status: int | None = None) -> None:
        self.problems = []
        self.expected_document_status = expected_document_status

    def _console(self, message) -> None:
        if message.type != "error":
            return
        refused = f"status of {self.expected_document_status}"
        if self.expected_document_status and refused in message.text:
            return
        self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _failed(self, request) -> None:
        # Chromium reports a request the page itself cut short (it navigated or swapped on)
        # as ERR_ABORTED; a server's refusal or error is a response, checked below.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response) -> None:
        request = response.request
        if response.status < 400:
            return
        refused = request.resource_type == "document" and (
            response.status == self.expected_document_status
        )
        if response.status >= 500 or not refused:
            self.problems.append(f"{response.status} for {request.resource_type} {request.url}")


def page_problems(page, *, secrets: tuple[str, ...] = (), accessibility: bool = True) -> list[str]:
    """What is wrong on the page as shown: an exception's text, a leaked secret, an
    unnamed or unreadable control (axe-core, serious and critical only), once the page's
    own requests (htmx's included) are done."""
    if accessibility:
        page.wait_for_load_state("networkidle")
    problems = []
    text = page.locator("body").inner_text()
    if found := EXCEPTION_TEXT.search(text):
        problems.append(f"shows exception text {found.group()!r}")
    problems.extend(f"shows {secret!r}" for secret in secrets if secret in text)
    if not accessibility:
        return problems
    results = _axe.run(
        page,
        options={"runOnly": {"type": "rule", "values": AXE_RULES}, "resultTypes": ["violations"]},
    )
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            nodes = "; ".join(_axe_node(node) for node in violation["nodes"][:5])
            problems.append(f"axe {violation['id']} ({violation['impact']}): {nodes}")
    return problems


def _axe_node(node: dict) -> str:
    """The element, and why (the contrast ratio and colours, the missing name)."""
    html = " ".join(node["html"].split())[:100]
    checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
    return f"{html} ({checks[0]['message'] if checks else node.get('failureSummary', '')})"


def screenshot(page, *, role: Role, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / role.name.lower() / f"{name}.png", full_page=True)
    if os.environ.get("KEEL_DOCS_SCREENSHOTS") == "1" and (role, name) in DOCS_PAGES:
        docs_screenshot(page, name=DOCS_PAGES[role, name])


# (who, the walk's name for the page) → the file in docs/screenshots/
DOCS_PAGES = {
    (Role.ADMIN, "console"): "console",
    (Role.ADMIN, "console_conversation"): "console-conversation",
    (Role.ADMIN, "answer"): "why-this-answer",
    (Role.ADMIN, "knowledge_base"): "knowledge-base",
    (Role.ADMIN, "policy-checked"): "policy",
    (Role.ADMIN, "evaluation-run-finished"): "evaluation-run",
    (Role.ADMIN, "analytics"): "analytics",
    (Role.ADMIN, "gaps"): "content-gaps",
    (Role.ADMIN, "audit_log"): "audit",
    (Role.ADMIN, "widget_settings"): "widget-settings",
    (Role.ANONYMOUS, "login"): "login",
    (Role.ANONYMOUS, "customer-chat"): "customer-chat",
}


def docs_screenshot(page, *, name: str) -> None:
    """The window's view at the docs' desktop size, and at a phone's."""
    size = page.viewport_size
    for suffix, viewport in (("", DOCS_VIEWPORT), ("-phone", PHONE_VIEWPORT)):
        page.set_viewport_size(viewport)
        page.screenshot(path=DOCS_SCREENSHOTS / f"{name}{suffix}.png")
    page.set_viewport_size(size)
