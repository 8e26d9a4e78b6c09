"""Newest fact wins: a document's effective date is read at ingest, and a passage that a
newer document restates is never the one answered from."""

import os
from datetime import UTC, date, datetime

import numpy as np
import pytest
from channels.db import database_sync_to_async

from knowledge.dates import stated_effective_date
from knowledge.models import Chunk, Document
from knowledge.parsing import document_parse
from knowledge.search import SAME_PASSAGE_SIMILARITY, chunk_search
from tests.support.chat import one_question
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory

OLD_RETURNS = """# Returns

Effective 1 January 2023.

You can return an unused item within 30 days of delivery for a full refund.
Refunds go back to the original payment method within 5 business days.
"""
NEW_RETURNS = """# Returns

Last updated: 2025-03-01

You can return an unused item within 14 days of delivery for a full refund.
Refunds go back to the original payment method within 5 business days.
"""
SALE_ITEMS = """# Sale items

Published March 4, 2022

Items bought on sale can be returned within 10 days for store credit only.
"""
GIFT_CARDS = """# Gift cards

Gift cards never expire and can be used for any order. They cannot be exchanged for cash.
"""
FILE_DATE = datetime(2024, 5, 17, 12, tzinfo=UTC)


def help_center(folder):
    """A superseded returns page beside its newer version, an older page on a neighbouring
    subject, and an undated page whose file's own date stands in."""
    folder.mkdir()
    for name, text in [
        ("returns-2023.md", OLD_RETURNS),
        ("returns.md", NEW_RETURNS),
        ("sale-items.md", SALE_ITEMS),
        ("gift-cards.md", GIFT_CARDS),
    ]:
        (folder / name).write_text(text)
    os.utime(folder / "gift-cards.md", (FILE_DATE.timestamp(), FILE_DATE.timestamp()))
    return folder


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Effective 1 March 2025. Fees apply.", date(2025, 3, 1)),
        ("Effective date: 12 Jan. 2024", date(2024, 1, 12)),
        ("Last updated: 2025-06-03", date(2025, 6, 3)),
        ("Last reviewed on March 4, 2024", date(2024, 3, 4)),
        ("Published 3rd February 2025", date(2025, 2, 3)),
        ("Effective from June 2025", date(2025, 6, 1)),
        # The latest stated date counts: the page was revised after it took effect.
        ("Effective 1 March 2024. Last updated 10/02/2025.", date(2025, 10, 2)),
        # Dates in digits: month first in English, unless the page shows it writes the day
        # first; day first in other languages and wherever dots separate them.
        ("Last updated 03/04/2025. Our bikes ship within two days.", date(2025, 3, 4)),
        ("Last updated 03/04/2025. Spring service from 14/04/2025.", date(2025, 4, 3)),
        ("Dernière mise à jour : 03/04/2025. Les vélos partent sous deux jours.", date(2025, 4, 3)),
        ("Stand: 03.04.2025", date(2025, 4, 3)),
        # In the other languages Keel replies in, their month names too.
        ("**Vigente desde el 1 de septiembre de 2025.**", date(2025, 9, 1)),
        ("Stand: 1. März 2025", date(2025, 3, 1)),
        ("Mis à jour le 3 février 2025", date(2025, 2, 3)),
        ("Laatst bijgewerkt op 4 juni 2024", date(2024, 6, 4)),
        ("Updated March 2025 prices: see below.", date(2025, 3, 1)),
        ("Updated 3 widgets 2025", None),  # a word that names no month
        ("Effective immediately, returns are free.", None),
        ("Order 2025-01-01 shipped.", None),  # a date without a cue is not the page's
        ("", None),
    ],
)
def test_the_effective_date_is_read_from_the_cue_that_states_it(text, expected):
    assert stated_effective_date(text) == expected


DELIVERY_PAGE = """<html><head><title>Delivery</title></head><body>
<header><nav><a href="/">Home</a> <a href="/help">Help</a></nav>
<p class="meta">Last updated 2 May 2024</p></header>
<main><article><h1>Delivery</h1>
<p>Orders placed before noon leave our warehouse the same working day.</p>
<p>Standard delivery takes three to five working days and costs four euros.</p>
<p>Express delivery arrives the next working day and costs nine euros.</p>
</article></main>
<footer><p>Copyright 2025 Example Shop</p>
<script>var build = "Published 1 May 2029";</script></footer>
</body></html>"""


def test_a_web_page_is_dated_by_the_line_outside_its_main_content():
    parsed = document_parse(filename="delivery.html", data=DELIVERY_PAGE.encode())

    assert "Last updated" not in " ".join(section.text for section in parsed.sections)
    assert parsed.effective_date == date(2024, 5, 2)


@pytest.mark.django_db
def test_ingest_records_the_stated_date_or_else_the_file_date(tmp_path, knowledge_base):
    ingest(help_center(tmp_path / "help"), knowledge_base)

    dates = {
        os.path.basename(document.source): document.effective_date
        for document in Document.objects.filter(knowledge_base=knowledge_base)
    }
    assert dates == {
        "returns-2023.md": date(2023, 1, 1),
        "returns.md": date(2025, 3, 1),
        "sale-items.md": date(2022, 3, 4),
        "gift-cards.md": FILE_DATE.date(),
    }


@pytest.mark.django_db
def test_search_drops_a_passage_a_newer_document_restates(tmp_path, knowledge_base):
    ingest(help_center(tmp_path / "help"), knowledge_base)

    hits = chunk_search(
        knowledge_bases=[knowledge_base], query="How many days do I have to return an item?"
    )

    texts = " ".join(hit.text for hit in hits)
    assert "14 days" in texts
    assert "30 days" not in texts
    # An older page on a neighbouring subject says something else: it stays.
    assert "store credit" in texts


REWRITTEN_OLD = """# Sending a bike back

Effective 1 June 2022.

Changed your mind? Bikes can be returned within 14 days of purchase.
Pack the bike in its original box with every part and the receipt.
Our warehouse checks each returned bike before the refund is approved.
"""
REWRITTEN_NEW = """# Returns and exchanges

Last updated: 2025-02-01

Bikes can be returned within 30 days of purchase.
Visit any of our stores or request a prepaid label from your account page.
Exchanges for another colour or size are free of charge.
"""


@pytest.mark.django_db
def test_search_drops_an_older_page_that_gives_a_value_the_newer_one_gives_differently(
    tmp_path, knowledge_base
):
    """Rewritten rather than restated: the two pages are too unlike for the restatement
    bar, but one sentence of each gives the return period, differently."""
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "bike-returns-2022.md").write_text(REWRITTEN_OLD)
    (folder / "returns.md").write_text(REWRITTEN_NEW)
    ingest(folder, knowledge_base)
    old, new = (
        Chunk.objects.get(document__source__endswith=name)
        for name in ("bike-returns-2022.md", "returns.md")
    )
    assert cosine(old.embedding, new.embedding) < SAME_PASSAGE_SIMILARITY

    hits = chunk_search(
        knowledge_bases=[knowledge_base], query="How many days do I have to return a bike?"
    )

    texts = " ".join(hit.text for hit in hits)
    assert "30 days" in texts
    assert "14 days" not in texts


def cosine(first, second) -> float:
    return float(np.dot(first, second) / (np.linalg.norm(first) * np.linalg.norm(second)))


@pytest.mark.django_db
def test_undated_documents_are_never_dropped(tmp_path, knowledge_base):
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "returns-2023.md").write_text(OLD_RETURNS.replace("Effective 1 January 2023.", ""))
    (folder / "returns.md").write_text(NEW_RETURNS)
    ingest(folder, knowledge_base)
    # As an upload with no stated date is: no file on disk to date it.
    Document.objects.filter(source__endswith="returns-2023.md").update(effective_date=None)

    hits = chunk_search(knowledge_bases=[knowledge_base], query="How long do I have to return?")

    texts = " ".join(hit.text for hit in hits)
    assert "14 days" in texts and "30 days" in texts


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_the_answer_quotes_the_newest_value_only(tmp_path, transactional_db):
    knowledge_base = await database_sync_to_async(KnowledgeBaseFactory)()
    await database_sync_to_async(ingest)(help_center(tmp_path / "help"), knowledge_base)

    answer = await one_question(
        knowledge_base.workspace.public_key, "How many days do I have to return an item?"
    )

    assert "14 days" in answer.text
    assert "30 days" not in answer.text


# The old page answers the question in its words; the newer page gives the period among
# other store rules, in other words, and ranks below three other pages for it.
BIKE_RETURNS_2022 = """# Sending a bike back

Effective 1 June 2022.

Changed your mind about your new bike? Bikes can be returned within 14 days of purchase.
"""
STORE_RULES = """# Store rules

Last updated: 2025-02-01

Our stores open at 9:00 on weekdays and at 10:00 on Saturdays.
Gift wrapping is free at the till. We match any local shop's advertised price.
Bikes can be returned within 30 days of purchase.
Loyalty members collect one point for every dollar spent in our stores.
Dogs on a lead are welcome in every store.
"""
NEIGHBOURS = {
    "bike-delivery.md": "# Bike delivery\n\nWe send your new bike assembled, in a box.\n",
    "trade-in.md": "# Trade in\n\nSend us your old bike back and we take its value off a "
    "new bike.\n",
    "order-changes.md": "# Changing an order\n\nChanged your mind about a bike before we send it? "
    "Edit the order in your account.\n",
    "bike-care.md": "# Bike care\n\nOil the chain of your new bike every month.\n",
}
BIKE_QUESTION = "Changed my mind about my new bike: how many days do I have to send it back?"


def store_help_center(folder):
    folder.mkdir()
    for name, text in {
        "bike-returns-2022.md": BIKE_RETURNS_2022,
        "store-rules.md": STORE_RULES,
        **NEIGHBOURS,
    }.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.django_db
def test_search_drops_a_value_a_newer_page_gives_differently_though_not_found_with_it(
    tmp_path, knowledge_base
):
    ingest(store_help_center(tmp_path / "help"), knowledge_base)

    hits = chunk_search(knowledge_bases=[knowledge_base], query=BIKE_QUESTION, k=1)

    assert "14 days" not in " ".join(hit.text for hit in hits)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "newer_page",
    [
        {"archived": True},
        {"valid_from": date(2020, 1, 1), "valid_until": date(2020, 2, 1)},  # a notice, over
        {"effective_date": None},  # undated: nothing says it is newer
    ],
)
def test_only_a_dated_searchable_newer_page_supersedes(tmp_path, knowledge_base, newer_page):
    ingest(store_help_center(tmp_path / "help"), knowledge_base)
    Document.objects.filter(source__endswith="store-rules.md").update(**newer_page)

    hits = chunk_search(knowledge_bases=[knowledge_base], query=BIKE_QUESTION, k=1)

    assert "14 days" in " ".join(hit.text for hit in hits)


@pytest.mark.django_db
def test_an_undated_page_is_never_dropped(tmp_path, knowledge_base):
    ingest(store_help_center(tmp_path / "help"), knowledge_base)
    Document.objects.filter(source__endswith="bike-returns-2022.md").update(effective_date=None)

    hits = chunk_search(knowledge_bases=[knowledge_base], query=BIKE_QUESTION, k=1)

    assert "14 days" in " ".join(hit.text for hit in hits)
