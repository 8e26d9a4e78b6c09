"""The analytics dashboard: every figure against conversations whose outcomes are counted by
hand, the CSV export, who may see it, escaping, and the page in a real browser."""

import csv
import io
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assistant.insights.analytics import Tally, workspace_analytics
from assistant.models import AuditEvent, Feedback, Handoff, Membership, Message
from knowledge.models import Document
from tests.conftest import log_in
from tests.support.factories import (
    AnswerFactory,
    AuditEventFactory,
    CitationFactory,
    ConversationFactory,
    DocumentFactory,
    FeedbackFactory,
    HandoffFactory,
    KnowledgeBaseFactory,
    MembershipFactory,
    MessageFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

SCRIPT_TITLE = "<script>alert(1)</script>"
FORMULA_ID = '=HYPERLINK("https://evil.example","x")'


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def conversation(workspace, days: int, visitor: str, **fields):
    """A conversation started `days` ago with the customer's first question."""
    started = ConversationFactory(
        workspace=workspace, started_at=days_ago(days), visitor_key=visitor, **fields
    )
    MessageFactory(conversation=started)
    return started


def answer(conversation, outcome, first_token_ms, total_ms, rating=None, cites=()):
    message = AnswerFactory(
        conversation=conversation,
        outcome=outcome,
        first_token_ms=first_token_ms,
        total_ms=total_ms,
    )
    if rating:
        FeedbackFactory(message=message, rating=rating)
    for document in cites:
        CitationFactory(message=message, document=document)
    return message


def handoff(conversation, reason, csat=None):
    """A handoff, with the assistant's "passing you to a person" message (no timings)."""
    HandoffFactory(conversation=conversation, reason=reason, csat=csat)
    AnswerFactory(
        conversation=conversation,
        outcome=Message.Outcome.HANDED_OFF,
        text="I'm passing you to a person.",
    )


ANSWERED, DONT_KNOW = Message.Outcome.ANSWERED, Message.Outcome.DONT_KNOW
UP, DOWN = Feedback.Rating.UP, Feedback.Rating.DOWN
ASKED, LOW, ANGRY = Handoff.Reason.ASKED, Handoff.Reason.LOW_CONFIDENCE, Handoff.Reason.ANGRY


@pytest.fixture
def known_outcomes(knowledge_base):
    """Conversations A to I count; J to M must not. Days are days ago; the range is the
    last 30 days."""
    workspace = knowledge_base.workspace
    returns = DocumentFactory(
        knowledge_base=knowledge_base, title="Returns and refunds", indexed_at=days_ago(10)
    )
    shipping = DocumentFactory(
        knowledge_base=knowledge_base, title="Shipping", indexed_at=days_ago(200)
    )
    warranty = DocumentFactory(
        knowledge_base=knowledge_base,
        title="Warranty",
        status=Document.Status.FAILED,
        indexed_at=None,
        updated_at=days_ago(400),
    )
    script = DocumentFactory(
        knowledge_base=knowledge_base, title=SCRIPT_TITLE, indexed_at=days_ago(5)
    )
    old_faq = DocumentFactory(
        knowledge_base=knowledge_base, title="Old FAQ", indexed_at=days_ago(100)
    )
    elsewhere = DocumentFactory(title="Elsewhere", indexed_at=days_ago(500))

    a = conversation(workspace, 20, "v-up")  # answered, thumbs up: resolved, durably
    answer(a, ANSWERED, 100, 400, rating=UP, cites=[returns])
    b = conversation(workspace, 20, "v-down")  # answered, thumbs down: not resolved
    answer(b, ANSWERED, 200, 800, rating=DOWN, cites=[returns, shipping])
    c = conversation(workspace, 15, "v-dk")  # "I don't know" only
    answer(c, DONT_KNOW, 50, 300)
    d = conversation(workspace, 10, "v-low")  # don't know, then a person (rated 4)
    answer(d, DONT_KNOW, 60, 350)
    handoff(d, LOW, csat=4)
    e = conversation(workspace, 10, "v-asked")  # answered, then asked for a person (2)
    answer(e, ANSWERED, 120, 500, cites=[returns, script])
    handoff(e, ASKED, csat=2)
    f = conversation(workspace, 9, "v-reopen")  # thumbs up, person (5), resolved, reopened
    answer(f, ANSWERED, 150, 600, rating=UP)
    handoff(f, ASKED, csat=5)
    AuditEventFactory(
        workspace=workspace,
        conversation=f,
        kind=AuditEvent.Kind.HANDOFF,
        detail={"from": "resolved", "to": "bot"},
    )
    handoff(f, Handoff.Reason.POLICY_RULE)  # a second handoff: F still counts as "asked"
    g = conversation(workspace, 20, "v-g1", customer_id=FORMULA_ID)  # resolved, but...
    answer(g, ANSWERED, 110, 420)
    h = conversation(workspace, 17, "v-g2", customer_id=FORMULA_ID)  # ...back on another
    handoff(h, ANGRY)  # device 3 days later, upset: G was not durable
    i = conversation(workspace, 2, "v-recent")  # resolved, too recent to know if durably
    answer(i, ANSWERED, 90, 450)

    # J: a sandbox by A's visitor key, escalated within A's 7 days: counts nowhere.
    j = conversation(workspace, 15, "v-up", sandbox=True)
    answer(j, ANSWERED, 10, 20, rating=DOWN, cites=[warranty])
    handoff(j, ASKED, csat=1)
    # K: another workspace's.
    k = conversation(elsewhere.knowledge_base.workspace, 5, "v-k")
    answer(k, ANSWERED, 5000, 9000, cites=[elsewhere])
    handoff(k, ASKED, csat=1)
    # L: A's visitor 40 days ago, before the range.
    old = conversation(workspace, 40, "v-up")
    answer(old, ANSWERED, 7000, 8000, rating=DOWN, cites=[old_faq])
    # M: no customer message.
    answer(ConversationFactory(workspace=workspace, started_at=days_ago(3)), ANSWERED, 1, 1)

    rails = [
        (AuditEvent.Kind.REDACTION, a, 0),
        (AuditEvent.Kind.INJECTION, b, 0),
        (AuditEvent.Kind.QUARANTINE, None, 5),
        (AuditEvent.Kind.INJECTION, j, 0),  # sandbox: not counted
        (AuditEvent.Kind.GROUNDING, i, 40),  # before the range
        (AuditEvent.Kind.POLICY_PUBLISH, None, 0),  # not a rail
    ]
    for kind, about, days in rails:
        AuditEventFactory(
            workspace=workspace, conversation=about, kind=kind, created_at=days_ago(days)
        )
    AuditEventFactory(workspace=k.workspace, conversation=k, kind=AuditEvent.Kind.REFUSED_TOPIC)
    return workspace


def analytics_for(workspace, stale_days=180):
    today = timezone.localdate()
    return workspace_analytics(
        workspace=workspace,
        start=today - timedelta(days=29),
        end=today,
        stale_days=stale_days,
        now=timezone.now(),
    )


def test_figures_match_the_hand_count(known_outcomes):
    figures = analytics_for(known_outcomes)

    # In scope: A to I. J is a sandbox, K another workspace's, L too old, M has no question.
    assert figures.conversations == 9
    # Started 20 days ago: A, B, G; 17: H; 15: C; 10: D, E; 9: F; 2: I. Every day listed.
    per_day = {tally.key: tally.count for tally in figures.per_day}
    today = timezone.localdate()
    days = [tally.key for tally in figures.per_day]
    assert len(days) == 30
    assert (days[0], days[-1]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    expected = {20: 3, 17: 1, 15: 1, 10: 2, 9: 1, 2: 1}
    assert {
        (today - timedelta(days=ago)).isoformat(): count for ago, count in expected.items()
    } == {day: count for day, count in per_day.items() if count}

    # Automated: A, G, I. B was rated down; C only said "I don't know"; D, E, F, H had a
    # handoff (F was reopened besides).
    assert (figures.automated, figures.automated_rate) == (3, 3 / 9)
    # Durable: A and G are 20 days old, I is 2 days old (not yet known). G's customer (same
    # verified id, another device) escalated 3 days later; A's visitor did only in a sandbox.
    assert (figures.durable, figures.durable_known, figures.durable_not_yet_known) == (1, 2, 1)
    assert figures.durable_rate == 0.5

    # Escalated: D (low confidence), E and F (asked; F's second handoff is not its first),
    # H (upset).
    assert (figures.escalated, figures.escalation_rate) == (4, 4 / 9)
    assert [(t.key, t.count, t.share) for t in figures.escalations_by_reason] == [
        ("asked", 2, 2 / 9),
        ("low_confidence", 1, 1 / 9),
        ("loop", 0, 0),
        ("angry", 1, 1 / 9),
        ("policy_rule", 0, 0),
    ]

    # Final answers: A 1, B 1, C 1, D 2 (don't know + handed off), E 2, F 3 (two handoffs),
    # G 1, H 1 (handed off), I 1 = 13, of which C and D said "I don't know".
    assert (figures.dont_know, figures.final_answers) == (2, 13)
    assert figures.dont_know_rate == 2 / 13

    # CSAT: D 4, E 2, F 5 (J's 1 and K's 1 do not count). Thumbs: A and F up, B down.
    assert figures.csat_mean == pytest.approx(11 / 3)
    assert figures.csat_ratings == 3
    assert [(t.label, t.count) for t in figures.csat_distribution] == [
        ("1", 0),
        ("2", 1),
        ("3", 0),
        ("4", 1),
        ("5", 1),
    ]
    assert (figures.thumbs_up, figures.thumbs_down, figures.thumbs_up_share) == (2, 1, 2 / 3)

    # Rails in range, outside sandboxes: A's redaction, B's injection, the quarantine.
    assert {t.key: t.count for t in figures.rail_triggers} == {
        "redaction": 1,
        "injection": 1,
        "grounding": 0,
        "refused_topic": 0,
        "output": 0,
        "escalation_flag": 0,
        "quarantine": 1,
    }

    # First words: 50 60 90 100 110 120 150 200 (C D I A G E F B): 4th and 8th of 8.
    assert (figures.first_token_p50_ms, figures.first_token_p95_ms) == (100, 200)
    # Whole answers: 300 350 400 420 450 500 600 800.
    assert (figures.total_p50_ms, figures.total_p95_ms) == (420, 800)

    # Citations: Returns by A, B, E; Shipping by B; the script-titled one by E. Warranty only
    # in the sandbox, Old FAQ only before the range.
    assert [(t.label, t.count) for t in figures.most_cited] == [
        ("Returns and refunds", 3),
        (SCRIPT_TITLE, 1),
        ("Shipping", 1),
    ]
    assert [d.title for d in figures.never_cited] == ["Old FAQ", "Warranty"]
    assert figures.never_cited_count == 2
    # Stale after 180 days: Warranty (never indexed, changed 400 days ago), Shipping (200).
    assert [d.title for d in figures.stale] == ["Warranty", "Shipping"]
    assert figures.stale_count == 2
    assert [d.title for d in analytics_for(known_outcomes, stale_days=365).stale] == ["Warranty"]


def test_a_visitor_back_with_a_person_within_seven_days_undoes_a_durable_resolution(
    knowledge_base,
):
    workspace = knowledge_base.workspace
    back_soon = conversation(workspace, 20, "v-soon")
    answer(back_soon, ANSWERED, 100, 400)
    handoff(conversation(workspace, 16, "v-soon"), ASKED)  # 4 days after: not durable
    back_late = conversation(workspace, 20, "v-late")
    answer(back_late, ANSWERED, 100, 400)
    handoff(conversation(workspace, 10, "v-late"), ASKED)  # 10 days after: still durable

    figures = analytics_for(workspace)
    assert (figures.automated, figures.durable, figures.durable_known) == (2, 1, 2)


def test_an_empty_range_has_no_rates(knowledge_base):
    figures = analytics_for(knowledge_base.workspace)
    assert figures.conversations == 0
    assert figures.automated_rate is figures.durable_rate is figures.dont_know_rate is None
    assert figures.first_token_p50_ms is None
    assert figures.csat_mean is None
    assert all(tally.count == 0 for tally in figures.per_day)


def analytics_url(workspace) -> str:
    return reverse("analytics", args=[workspace.slug])


def csv_url(workspace) -> str:
    return reverse("analytics_conversations_csv", args=[workspace.slug])


def test_the_page_shows_the_figures_with_their_charts(admin_client, known_outcomes):
    page = admin_client.get(analytics_url(known_outcomes)).content.decode()

    def figure(name: str) -> str:
        return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)

    assert figure("conversations") == "9"
    assert figure("automated") == "33.3 %"
    assert figure("durable") == "50.0 %"
    assert figure("escalation") == "44.4 %"
    assert figure("dont-know") == "15.4 %"
    assert figure("latency") == "100 / 200 ms"
    assert figure("csat") == "3.67"
    assert figure("thumbs") == "2 up, 1 down"
    # One column a day; one bar per reason, rail kind and cited document, titled.
    assert page.count('<rect class="bar"') == 30 + 5 + 5 + 7 + 3
    assert "<title>Asked for a person: 2 (22.2 %)</title>" in page
    # Served locally: nothing on the page points to another site.
    assert "://" not in page


def test_document_titles_are_escaped(admin_client, known_outcomes):
    page = admin_client.get(analytics_url(known_outcomes)).content.decode()
    assert SCRIPT_TITLE not in page
    # In the most-cited chart's label, its bar's title and the table of numbers.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3


def test_the_filters_change_the_range_and_bad_ones_are_explained(admin_client, known_outcomes):
    today = timezone.localdate()
    last_week = admin_client.get(
        analytics_url(known_outcomes),
        {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()},
    ).content.decode()
    assert 'data-figure="conversations">1<' in last_week  # I alone
    assert last_week.count('<rect class="bar"') == 7 + 5 + 5 + 7  # no citation in range

    for query, error in [
        ({"start": "2025-02-30"}, "Enter a valid date."),
        ({"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()}, "before"),
        ({"start": (today - timedelta(days=400)).isoformat()}, "at most 366 days"),
        ({"stale_days": "0"}, "greater than or equal to 1"),
    ]:
        response = admin_client.get(analytics_url(known_outcomes), query)
        assert response.status_code == 200
        page = response.content.decode()
        assert error in page
        assert "data-figure" not in page
        assert admin_client.get(csv_url(known_outcomes), query).status_code == 400


def download(user, url: str, query: dict | None = None) -> tuple[int, str]:
    """Through the ASGI handler, as daphne serves it: the export streams asynchronously."""
    client = AsyncClient()
    client.force_login(user)

    async def get():
        response = await client.get(url, query or {})
        if not response.streaming:
            return response.status_code, response.content
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        return response.status_code, b"".join([part async for part in response.streaming_content])

    status, body = async_to_sync(get)()
    return status, body.decode()


def test_csv_export_of_conversations_with_their_ratings(admin_membership, known_outcomes):
    status, body = download(admin_membership.user, csv_url(known_outcomes))
    assert status == 200
    assert body.splitlines()[0] == (
        "id,started,customer id,state,customer messages,answers,don't-know answers,"
        "handed off (first reason),thumbs up,thumbs down,CSAT,automated resolution,"
        "durable resolution"
    )
    rows = list(csv.reader(io.StringIO(body)))
    # Oldest first, ids and start times aside; the customer id is kept from being a formula.
    neutralised = "'" + FORMULA_ID
    assert [row[2:] for row in rows[1:]] == [
        ["", "bot", "1", "1", "0", "", "1", "0", "", "yes", "yes"],  # A
        ["", "bot", "1", "1", "0", "", "0", "1", "", "no", "no"],  # B
        [neutralised, "bot", "1", "1", "0", "", "0", "0", "", "yes", "no"],  # G
        [neutralised, "bot", "1", "0", "0", "angry", "0", "0", "", "no", "no"],  # H
        ["", "bot", "1", "0", "1", "", "0", "0", "", "no", "no"],  # C
        ["", "bot", "1", "0", "1", "low_confidence", "0", "0", "4", "no", "no"],  # D
        ["", "bot", "1", "1", "0", "asked", "0", "0", "2", "no", "no"],  # E
        ["", "bot", "1", "1", "0", "asked", "1", "0", "5", "no", "no"],  # F
        ["", "bot", "1", "1", "0", "", "0", "0", "", "yes", "not yet known"],  # I
    ]
    started = [row[1] for row in rows[1:]]
    assert started == sorted(started)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", when) for when in started)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(admin_membership):
    ids = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain-id"]
    for customer_id in ids:
        conversation(admin_membership.workspace, 1, "v", customer_id=customer_id)
    status, body = download(admin_membership.user, csv_url(admin_membership.workspace))
    assert status == 200
    assert [row[2] for row in csv.reader(io.StringIO(body, newline=""))][1:] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "plain-id",
    ]


def test_csv_export_keeps_to_the_range(admin_membership, known_outcomes):
    today = timezone.localdate()
    last_week = {"start": (today - timedelta(days=6)).isoformat(), "end": today.isoformat()}
    status, body = download(admin_membership.user, csv_url(known_outcomes), last_week)
    assert status == 200
    assert len(list(csv.reader(io.StringIO(body)))) == 2  # the header and I


def test_strangers_agents_and_outsiders_are_kept_out(client, known_outcomes):
    for url in (analytics_url(known_outcomes), csv_url(known_outcomes)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    agent = MembershipFactory(workspace=known_outcomes, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(analytics_url(known_outcomes)).status_code == 403
    assert download(agent.user, csv_url(known_outcomes))[0] == 403
    outsider = MembershipFactory()
    client.force_login(outsider.user)
    assert client.get(analytics_url(known_outcomes)).status_code == 404
    assert download(outsider.user, csv_url(known_outcomes))[0] == 404


def test_the_switcher_lists_and_opens_only_workspaces_the_user_administers(client):
    admin = MembershipFactory(workspace=WorkspaceFactory(name="Alpha Cycles"))
    beta = MembershipFactory(
        user=admin.user, workspace=WorkspaceFactory(name="Beta Bikes")
    ).workspace
    gamma = MembershipFactory(
        user=admin.user, workspace=WorkspaceFactory(name="Gamma Gear"), role=Membership.Role.AGENT
    ).workspace
    WorkspaceFactory(name="Delta Stranger")
    client.force_login(admin.user)

    page = client.get(analytics_url(admin.workspace)).content.decode()
    switcher = re.search(r'<select name="workspace".*?</select>', page, re.S).group(0)
    assert re.findall(r">([^<]+)</option>", switcher) == ["Alpha Cycles", "Beta Bikes"]
    assert f'value="{admin.workspace.slug}" selected' in switcher

    response = client.get(
        analytics_url(admin.workspace),
        {"workspace": beta.slug, "start": "2025-01-01", "end": "2025-01-31", "stale_days": "90"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        analytics_url(beta) + "?start=2025-01-01&end=2025-01-31&stale_days=90"
    )
    assert "Beta Bikes" in client.get(response["Location"]).content.decode()

    refused = client.get(analytics_url(admin.workspace), {"workspace": gamma.slug})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()


def test_the_workspace_nav_links_to_analytics(admin_client, knowledge_base):
    page = admin_client.get(reverse("audit_log", args=[knowledge_base.workspace.slug]))
    assert f'href="{analytics_url(knowledge_base.workspace)}"' in page.content.decode()


def test_rail_kinds_and_reasons_are_listed_even_when_nothing_happened(knowledge_base):
    figures = analytics_for(knowledge_base.workspace)
    assert figures.rail_triggers[0] == Tally("redaction", "Personal data redacted", 0)
    assert len(figures.escalations_by_reason) == len(Handoff.Reason)


def test_documents_of_other_workspaces_are_never_listed(knowledge_base):
    DocumentFactory(
        knowledge_base=KnowledgeBaseFactory(), title="Someone else's", indexed_at=days_ago(900)
    )
    figures = analytics_for(knowledge_base.workspace)
    assert figures.never_cited_count == figures.stale_count == 0


@pytest.mark.browser
def test_in_a_browser_the_charts_render_and_the_range_filters_them(
    keel_server, page, transactional_db
):
    """Inline SVG, nothing fetched from elsewhere; the date filter redraws the charts."""
    workspace = WorkspaceFactory(name="Trailhead Cycles")
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN)
    for days, escalated in [(20, True), (20, False), (3, False)]:
        conversation = ConversationFactory(
            workspace=workspace, started_at=timezone.now() - timedelta(days=days)
        )
        MessageFactory(conversation=conversation)
        AnswerFactory(conversation=conversation)
        if escalated:
            HandoffFactory(conversation=conversation, reason=Handoff.Reason.LOW_CONFIDENCE)
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    log_in(page, url=keel_server + reverse("analytics", args=[workspace.slug]), membership=admin)
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()

    per_day = page.get_by_role("img", name="Conversations per day")
    expect(per_day).to_be_visible()
    expect(per_day.locator("rect.bar")).to_have_count(30)
    # The tallest column is the day with two conversations; it has a box the browser drew.
    tallest = per_day.locator("rect.bar", has_text=": 2")
    assert tallest.bounding_box()["height"] > 100
    escalations = page.get_by_role("img", name="Escalations by reason")
    expect(escalations.locator("rect.bar")).to_have_count(len(Handoff.Reason))
    expect(escalations).to_contain_text("The assistant was not sure")
    expect(page.locator('[data-figure="conversations"]')).to_have_text("3")
    expect(page.locator('[data-figure="escalation"]')).to_have_text("33.3 %")

    today = timezone.localdate()
    page.get_by_label("From").fill((today - timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(per_day.locator("rect.bar")).to_have_count(7)
    expect(page.locator('[data-figure="conversations"]')).to_have_text("1")
    expect(page.locator('[data-figure="escalation"]')).to_have_text("0.0 %")
    assert page.get_by_label("From").input_value() == (today - timedelta(days=6)).isoformat()
    assert all(url.startswith(keel_server) for url in requests)
