"""The walkthrough's pages: a real browser (Debian's chromium) against a real daphne
process and a real worker opens every page of the URLconf as anonymous, agent, admin and
admin of another workspace. It fails on a server error, a failed request, a console error,
an exception's text, a control without a name or with contrast below AA, and on refused
access that is not refused (or the other way round). The actions are in test_actions.py."""

from urllib.parse import urlsplit

import pytest

from tests.support.walk import METRICS_TOKEN, Walk, log_out, session
from tests.support.walkthrough import (
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

# The marker has pytest-django set up the test database; the walk's objects are committed
# by the module's fixture (in a thread of its own: Playwright runs an event loop in this one).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


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
    context, page, watch = session(browser, walk, role)
    failures = []
    for route in url_routes():
        problems = _route_problems(
            route, role=role, walk=walk, context=context, page=page, watch=watch
        )
        failures.extend(f"[{role.value}] {route.name} (/{route.pattern}): {p}" for p in problems)
    if role is not Role.ANONYMOUS:
        log_out(page, watch)
        failures.extend(f"[{role.value}] logout: {p}" for p in watch.problems)
    context.close()
    assert not failures, "\n".join(failures)
