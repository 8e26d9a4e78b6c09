"""A document's dates: an admin sets or clears them on the document page, re-indexing keeps
them; a temporary notice's period is read at ingest, and the notice is searched only
inside it: today, or on a day the question names."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistant.models import Membership
from knowledge.dates import MAX_DAYS_ASKED, Period, days_asked, stated_period
from knowledge.ingest import document_index
from knowledge.models import Document
from knowledge.search import chunk_search
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory

RETURNS = """# Returns

Last updated: 2024-02-01

You can return an unused item within 30 days of delivery for a full refund.
Refunds go back to the original payment method within 5 business days.
"""
NOTICE = """# Returns over the holidays

From 20 December to 5 January, returns are extended.

You can return an unused item within 60 days of delivery for a full refund.
Refunds go back to the original payment method within 5 business days.
"""
QUESTION = "How many days do I have to return an unused item?"


def document_url(name, document):
    return reverse(
        name,
        kwargs={
            "workspace_slug": document.knowledge_base.workspace.slug,
            "knowledge_base_slug": document.knowledge_base.slug,
            "document_id": document.pk,
        },
    )


def dates_post(client, document, **dates):
    return client.post(
        document_url("document_dates", document),
        {"effective_date": "", "valid_from": "", "valid_until": "", **dates},
        headers={"HX-Request": "true"},
    )


@pytest.fixture
def help_center(tmp_path, knowledge_base):
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "returns.md").write_text(RETURNS)
    (folder / "holiday-returns.md").write_text(NOTICE)
    ingest(folder, knowledge_base)
    return {
        document.source.rsplit("/", 1)[-1]: document
        for document in Document.objects.filter(knowledge_base=knowledge_base)
    }


@pytest.mark.parametrize(
    ("text", "written", "expected"),
    [
        # The year left out: the period running at the date written, or the next one.
        (
            "From 20 December to 5 January, stores close early.",
            date(2025, 12, 1),
            (date(2025, 12, 20), date(2026, 1, 5)),
        ),
        (
            "From 20 December to 5 January, stores close early.",
            date(2026, 1, 3),
            (date(2025, 12, 20), date(2026, 1, 5)),
        ),
        (
            "Offer valid until 31 January 2026. Free delivery.",
            date(2025, 11, 2),
            (None, date(2026, 1, 31)),
        ),
        (
            "Sale between 1 July 2025 and 31 August 2025.",
            date(2025, 6, 1),
            (date(2025, 7, 1), date(2025, 8, 31)),
        ),
        (
            "Open late: 1 March \u2013 15 March 2026.",
            date(2026, 2, 1),
            (date(2026, 3, 1), date(2026, 3, 15)),
        ),
        (
            "Starting 1 June 2026, stores open at nine.",
            date(2026, 5, 1),
            (date(2026, 6, 1), None),
        ),
        (
            "Until January 2026, delivery is free.",
            date(2025, 11, 1),
            (None, date(2026, 1, 31)),
        ),
        (
            "Effective 1 March 2025. Returns within 30 days.",
            date(2025, 3, 1),
            (None, None),
        ),
        (
            "Published 1 May 2024 and updated 3 June 2024.",
            date(2024, 6, 3),
            (None, None),
        ),
        # Over before the text was written: history it tells, not its period.
        (
            "Between 1 March 2010 and 31 May 2012, 400 riders were surveyed.",
            date(2025, 1, 1),
            (None, None),
        ),
        # A range far down a page is one of its facts, not the page's period.
        (
            "Returns within 30 days. " + "More text. " * 80 + "Closed from 24 to 26 December.",
            date(2025, 1, 1),
            (None, None),
        ),
    ],
)
def test_a_notice_period_is_read_from_its_opening(text, written, expected):
    assert stated_period(text, written=written) == Period(*expected)


@pytest.mark.django_db
def test_ingest_reads_the_notice_period(help_center):
    notice = help_center["holiday-returns.md"]
    assert (notice.valid_from.month, notice.valid_from.day) == (12, 20)
    assert (notice.valid_until.month, notice.valid_until.day) == (1, 5)
    assert notice.valid_until.year == notice.valid_from.year + 1
    assert (help_center["returns.md"].valid_from, help_center["returns.md"].valid_until) == (
        None,
        None,
    )


def periods_found(knowledge_base, question=QUESTION) -> tuple[bool, bool]:
    """Whether the search finds the notice's return period, and the standing page's."""
    hits = chunk_search(knowledge_bases=[knowledge_base], query=question)
    texts = " ".join(hit.text for hit in hits)
    return "60 days" in texts, "30 days" in texts


@pytest.mark.django_db
def test_a_notice_is_searched_only_inside_its_period(help_center, knowledge_base):
    notice = Document.objects.filter(pk=help_center["holiday-returns.md"].pk)
    today = timezone.localdate()
    periods = {
        "inside": (today - timedelta(days=3), today + timedelta(days=3)),
        "over": (today - timedelta(days=20), today - timedelta(days=1)),
        "to come": (today + timedelta(days=1), today + timedelta(days=20)),
    }
    found = {}
    for name, (valid_from, valid_until) in periods.items():
        notice.update(valid_from=valid_from, valid_until=valid_until, effective_date=valid_from)
        found[name] = periods_found(knowledge_base)
    notice.update(valid_from=periods["inside"][0], valid_until=periods["inside"][1], archived=True)
    found["archived"] = periods_found(knowledge_base)

    # Inside its period the notice is the newer restatement and wins; outside it, or
    # archived, it is not searched, nor does it hide the page it restates.
    assert found == {
        "inside": (True, False),
        "over": (False, True),
        "to come": (False, True),
        "archived": (False, True),
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("How long do I have to return it?", []),
        # Years from the date written with one, for a range's first end too.
        (
            "I bought it on December 5, 2025. Can I return it on January 10, 2026?",
            [date(2025, 12, 5), date(2026, 1, 10)],
        ),
        (
            "Travelling from December 20 to December 29, 2025",
            [date(2025, 12, 20), date(2025, 12, 29)],
        ),
        # Without a year, the nearest: asked on 7 December 2026, "3 January" is next month.
        ("Can I still return it on 3 January?", [date(2027, 1, 3)]),
        ("Delivered 20th Nov, still time?", [date(2026, 11, 20)]),
        ("Ordered on 12/01/2026", [date(2026, 12, 1)]),
        ("Bought on 29 February", []),  # no such day in the years near today
    ],
)
def test_the_days_a_question_names(text, expected):
    today = date(2026, 12, 7)
    assert days_asked(text=text, today=today) == [today, *expected]


def test_a_message_listing_many_days_is_read_for_its_first_few():
    today = date(2026, 12, 7)
    listed = " ".join(f"on {day} January," for day in range(1, 29))

    assert days_asked(text=listed, today=today)[1:] == [
        date(2027, 1, day) for day in range(1, MAX_DAYS_ASKED + 1)
    ]


@pytest.mark.django_db
def test_a_question_naming_a_day_of_the_notice_gets_the_notice(help_center, knowledge_base):
    notice = Document.objects.filter(pk=help_center["holiday-returns.md"].pk)
    today = timezone.localdate()
    valid_from, valid_until = today + timedelta(days=30), today + timedelta(days=45)
    notice.update(valid_from=valid_from, valid_until=valid_until, effective_date=valid_from)
    inside = (valid_from + timedelta(days=5)).strftime("%-d %B %Y")
    after = (valid_until + timedelta(days=5)).strftime("%-d %B %Y")

    assert periods_found(knowledge_base) == (False, True)
    assert periods_found(
        knowledge_base, f"I want to return an item on {inside}. How many days do I have?"
    ) == (True, False)
    assert periods_found(
        knowledge_base, f"I want to return an item on {after}. How many days do I have?"
    ) == (False, True)


@pytest.mark.django_db
def test_an_admin_sets_the_dates_and_reindexing_keeps_them(
    admin_client, admin_membership, help_center
):
    returns = help_center["returns.md"]
    page = admin_client.get(document_url("document", returns))
    assert page.status_code == 200
    assert b'value="2024-02-01"' in page.content
    assert "Read from the document's text" in page.content.decode()

    response = dates_post(
        admin_client, returns, effective_date="2025-06-01", valid_until="2025-12-31"
    )

    assert response.status_code == 200
    assert b"Saved" in response.content and b'value="2025-06-01"' in response.content
    document_index(document=Document.objects.get(pk=returns.pk))  # as the worker does
    returns.refresh_from_db()
    assert (returns.effective_date, returns.valid_from, returns.valid_until) == (
        date(2025, 6, 1),
        None,
        date(2025, 12, 31),
    )
    assert returns.dates_set_by == admin_membership.user

    # Cleared by hand: no date, and re-indexing does not bring the text's back.
    dates_post(admin_client, returns)
    document_index(document=Document.objects.get(pk=returns.pk))
    returns.refresh_from_db()
    assert returns.effective_date is None and returns.dates_set_at is not None


def test_reading_the_dates_again_goes_back_to_the_text(
    admin_client, knowledge_base, tmp_path, job_queue
):
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "returns.md").write_text(RETURNS)
    ingest(folder, knowledge_base)
    returns = Document.objects.get(knowledge_base=knowledge_base)
    dates_post(admin_client, returns, effective_date="2025-06-01")

    response = admin_client.post(
        document_url("document_dates", returns),
        {"read_from_text": "1"},
        headers={"HX-Request": "true"},
    )
    assert b"read from the document again" in response.content
    job_queue()

    returns.refresh_from_db()
    assert (returns.effective_date, returns.dates_set_at) == (date(2024, 2, 1), None)


@pytest.mark.django_db
def test_a_notice_cannot_end_before_it_starts(admin_client, help_center):
    notice = help_center["holiday-returns.md"]
    before = (notice.valid_from, notice.valid_until)

    response = dates_post(admin_client, notice, valid_from="2026-03-01", valid_until="2026-02-01")
    assert b"The notice cannot end before it starts." in response.content
    response = dates_post(admin_client, notice, effective_date="1st of never")
    assert b"Enter a valid date." in response.content
    # Without htmx, the page again, with the error, and a 400.
    response = admin_client.post(
        document_url("document_dates", notice),
        {"valid_from": "2026-03-01", "valid_until": "2026-02-01"},
    )
    assert response.status_code == 400
    assert b"The notice cannot end before it starts." in response.content

    notice.refresh_from_db()
    assert (notice.valid_from, notice.valid_until) == before and notice.dates_set_at is None


@pytest.mark.django_db
def test_only_the_workspace_admins_see_and_set_dates(client, knowledge_base):
    document = knowledge_base.documents.create(
        source="a.md", title="A", effective_date=date(2024, 1, 1)
    )
    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(document_url("document", document)).status_code == 403
    assert dates_post(client, document, effective_date="2030-01-01").status_code == 403

    stranger = MembershipFactory(
        workspace=KnowledgeBaseFactory().workspace, role=Membership.Role.ADMIN
    )
    client.force_login(stranger.user)
    assert client.get(document_url("document", document)).status_code == 404
    # their own workspace in the URL, our document's id: still not found
    theirs = reverse(
        "document_dates",
        kwargs={
            "workspace_slug": stranger.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
            "document_id": document.pk,
        },
    )
    assert client.post(theirs, {"effective_date": "2030-01-01"}).status_code == 404

    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(
        MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.ADMIN).user
    )
    assert dates_post(csrf_checked, document, effective_date="2030-01-01").status_code == 403

    document.refresh_from_db()
    assert document.effective_date == date(2024, 1, 1)


@pytest.mark.django_db
def test_the_document_page_escapes_what_the_document_says(admin_client, knowledge_base):
    document = knowledge_base.documents.create(
        source="<img src=x onerror=alert(1)>.md",
        title="<script>alert('title')</script>",
        error="<b>bad</b>",
    )
    content = admin_client.get(document_url("document", document)).content
    assert (
        b"<script>alert(" not in content
        and b"<img src=x" not in content
        and b"<b>bad" not in content
    )
    assert b"&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in content
    assert b"No date was found in the document" in content  # none read from its text


@pytest.mark.django_db
def test_staff_pages_name_a_document_by_its_file_never_the_servers_folders(
    admin_client, help_center, tmp_path
):
    returns = help_center["returns.md"]
    assert str(tmp_path) in returns.source  # a folder ingest keeps the whole path
    documents_page = reverse(
        "knowledge_base",
        kwargs={
            "workspace_slug": returns.knowledge_base.workspace.slug,
            "knowledge_base_slug": returns.knowledge_base.slug,
        },
    )
    for page in (document_url("document", returns), documents_page):
        content = admin_client.get(page).content.decode()
        assert "returns.md" in content
        assert str(tmp_path) not in content
