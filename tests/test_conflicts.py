"""The Conflicts list: sentences of a knowledge base that give the same thing different
values, with their documents' dates and which one is answered from."""

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.models import Membership
from knowledge.conflicts import knowledge_base_conflicts
from knowledge.models import Document
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory

OLD_RETURNS = """# Returns

Effective 1 February 2023.

Returns are accepted within 14 days of delivery.
Items must be unused and in their original packaging.
"""
NEW_RETURNS = """# Returns

Effective 1 March 2025.

Returns are accepted within 30 days of delivery.
Items must be unused and in their original packaging.
"""
GIFT_CARDS = """# Gift cards

Gift cards cannot be exchanged for cash.
A gift card is valid for 3 years after purchase.
"""
OLD_GIFT_CARDS = """# Gift cards

Last updated 2022-05-01

Gift cards can be exchanged for cash.
"""
MEMBERSHIP = """# Membership

Effective 1 January {year}.

The annual membership costs {price} and includes free delivery.
"""
# Values of different things: two countries, two services, two models in a table, two
# cases of a condition. No conflict.
DELIVERY = """# Delivery

Shipping to Canada takes 5 working days.
Shipping to Mexico takes 8 working days.
Standard delivery costs $5. Express delivery costs $15.
Our warranty covers the frame for 5 years and the battery for 2 years.

| Model | Wheel | Price |
| --- | --- | --- |
| Trail 14 | 14 in | $269 |
| Trail 16 | 16 in | $299 |

If your bike arrived damaged, you can return it within 60 days.
If your bike arrived not damaged, you can return it within 30 days.
"""


def help_center(folder, pages):
    folder.mkdir()
    for name, text in pages.items():
        (folder / name).write_text(text)
    return folder


def conflicts_of(knowledge_base):
    return knowledge_base_conflicts(knowledge_base=knowledge_base, today=timezone.localdate())


def conflicts_url(knowledge_base, workspace=None):
    return reverse(
        "knowledge_conflicts",
        kwargs={
            "workspace_slug": (workspace or knowledge_base.workspace).slug,
            "knowledge_base_slug": knowledge_base.slug,
        },
    )


@pytest.mark.django_db
def test_two_documents_giving_a_different_number_of_days_conflict(tmp_path, knowledge_base):
    pages = {"returns-2023.md": OLD_RETURNS, "returns.md": NEW_RETURNS, "delivery.md": DELIVERY}
    ingest(help_center(tmp_path / "help", pages), knowledge_base)

    [conflict] = conflicts_of(knowledge_base)

    sides = {
        statement.sentence: (value, statement.document.effective_date.year)
        for statement, value in conflict.sides
    }
    assert sides == {
        "Returns are accepted within 14 days of delivery.": ("14 days", 2023),
        "Returns are accepted within 30 days of delivery.": ("30 days", 2025),
    }
    assert conflict.newer.sentence == "Returns are accepted within 30 days of delivery."


@pytest.mark.django_db
def test_prices_written_with_thousands_and_decimals_conflict(tmp_path, knowledge_base):
    pages = {
        "membership-2024.md": MEMBERSHIP.format(year=2024, price="$1,249.50"),
        "membership.md": MEMBERSHIP.format(year=2025, price="1.299,00 USD"),
        "membership-copy.md": MEMBERSHIP.format(year=2026, price="$1,299"),
    }
    ingest(help_center(tmp_path / "help", pages), knowledge_base)

    values = {
        tuple(sorted(value for _, value in conflict.sides))
        for conflict in conflicts_of(knowledge_base)
    }

    # The same price, written two ways, is no conflict.
    assert values == {("$1,249.50", "1.299,00 USD"), ("$1,249.50", "$1,299")}


FERRY_FARES = """# Ferry fares

Effective 1 April 2023.

## Day return

Price: $12 per adult.

## Weekend Ferry Pass

Price: $30 per adult for each weekend.
"""
FERRY_PASSES = """# Ferry passes

Effective 1 April 2025.

The Weekend Ferry Pass costs $36 per adult, per weekend.
The Weekday Ferry Pass costs $20 per adult, per day.
"""


@pytest.mark.django_db
def test_a_sentence_is_about_what_its_heading_names(tmp_path, knowledge_base):
    """The pass's price is "Price: $30" under the heading "Weekend Ferry Pass"; the day
    return's price under its own heading, and the weekday pass's, are other things."""
    pages = {"ferry-fares-2023.md": FERRY_FARES, "ferry-passes.md": FERRY_PASSES}
    ingest(help_center(tmp_path / "help", pages), knowledge_base)

    [conflict] = conflicts_of(knowledge_base)

    assert {(statement.sentence, value) for statement, value in conflict.sides} == {
        ("Price: $30 per adult for each weekend.", "$30"),
        ("The Weekend Ferry Pass costs $36 per adult, per weekend.", "$36"),
    }
    assert conflict.newer.document.title == "Ferry passes"


INVOICES = """# Paying your invoice

Effective 1 January {year}.

{article} late fee of {fee} is added to any invoice paid after its due date.
"""


@pytest.mark.django_db
def test_a_capital_that_only_starts_the_sentence_names_nothing(tmp_path, knowledge_base):
    """One fee, "a late fee" or "the late fee": neither "A" nor "The" is a name."""
    pages = {
        "invoices-2023.md": INVOICES.format(year=2023, article="A", fee="$12"),
        "invoices.md": INVOICES.format(year=2025, article="The", fee="$9.50"),
    }
    ingest(help_center(tmp_path / "help", pages), knowledge_base)

    [conflict] = conflicts_of(knowledge_base)

    assert sorted(value for _, value in conflict.sides) == ["$12", "$9.50"]
    assert conflict.newer.document.effective_date.year == 2025


@pytest.mark.django_db
def test_numbers_of_different_things_do_not_conflict(tmp_path, knowledge_base):
    ingest(help_center(tmp_path / "help", {"delivery.md": DELIVERY}), knowledge_base)

    assert conflicts_of(knowledge_base) == []


@pytest.mark.django_db
def test_a_yes_and_a_no_conflict(tmp_path, knowledge_base):
    pages = {"gift-cards.md": GIFT_CARDS, "gift-cards-2022.md": OLD_GIFT_CARDS}
    ingest(help_center(tmp_path / "help", pages), knowledge_base)

    [conflict] = conflicts_of(knowledge_base)

    assert {(statement.sentence, value) for statement, value in conflict.sides} == {
        ("Gift cards cannot be exchanged for cash.", "no"),
        ("Gift cards can be exchanged for cash.", "yes"),
    }


@pytest.mark.django_db
def test_archived_documents_are_left_out(tmp_path, knowledge_base):
    pages = {"returns-2023.md": OLD_RETURNS, "returns.md": NEW_RETURNS}
    ingest(help_center(tmp_path / "help", pages), knowledge_base)
    Document.objects.filter(source__endswith="returns-2023.md").update(archived=True)

    assert conflicts_of(knowledge_base) == []


@pytest.mark.django_db
def test_the_page_shows_both_sentences_their_documents_and_the_newer(
    tmp_path, knowledge_base, admin_client
):
    pages = {"returns-2023.md": OLD_RETURNS, "returns.md": NEW_RETURNS}
    ingest(help_center(tmp_path / "help", pages), knowledge_base)
    Document.objects.filter(source__endswith="returns-2023.md").update(
        title="Returns <script>alert(1)</script>"
    )
    newer = Document.objects.get(source__endswith="/returns.md")

    page = admin_client.get(
        reverse("knowledge_base", args=[knowledge_base.workspace.slug, knowledge_base.slug])
    )
    assert conflicts_url(knowledge_base).encode() in page.content
    response = admin_client.get(conflicts_url(knowledge_base))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Returns are accepted within 14 days of delivery." in content
    assert "Returns are accepted within 30 days of delivery." in content
    assert "effective 1 February 2023" in content and "effective 1 March 2025" in content
    document_page = reverse(
        "document", args=[knowledge_base.workspace.slug, knowledge_base.slug, newer.pk]
    )
    assert f'href="{document_page}"' in content
    assert content.count("newer: the one answered from") == 1
    assert "<script>alert(1)" not in content and "Returns &lt;script&gt;" in content


@pytest.mark.django_db
def test_the_page_is_for_the_workspace_admins_only(client, knowledge_base):
    page = conflicts_url(knowledge_base)
    assert client.get(page).url.startswith(reverse("login"))

    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(page).status_code == 403

    stranger = MembershipFactory(workspace=KnowledgeBaseFactory().workspace)
    client.force_login(stranger.user)
    assert client.get(page).status_code == 404
    # their own workspace in the URL, our knowledge base's slug: not found either
    assert client.get(conflicts_url(knowledge_base, stranger.workspace)).status_code == 404
