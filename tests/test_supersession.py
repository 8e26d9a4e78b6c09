"""A page that says it replaces an older one takes that one out of search while it is
searchable itself, and says so on both documents' pages and on the Conflicts page."""

import pytest
from django.urls import reverse

from knowledge.ingest import document_archive, document_delete
from knowledge.models import Document
from knowledge.search import chunk_search
from tests.support.commands import ingest

OLD_POLICY = """# Membership policy

Effective 1 February 2024.

Members can freeze their membership for up to three months a year at no charge.
"""
NEW_POLICY = """# Membership policy

Effective 1 September 2025. {replaces}

To cancel your membership, tell the front desk a calendar month ahead.
Members bring their own towel or rent one at the desk.
"""
OTHER_PAGE = """# Climbing wall

Effective 1 February 2024.

Members can book the climbing wall for an hour a day at no charge.
"""
FREEZE = "Can I freeze my membership?"


def help_center(folder, replaces):
    folder.mkdir()
    (folder / "membership-2024.md").write_text(OLD_POLICY)
    (folder / "membership.md").write_text(NEW_POLICY.format(replaces=replaces))
    (folder / "climbing.md").write_text(OTHER_PAGE)
    return folder


def document(name) -> Document:
    return Document.objects.get(source__endswith=f"/{name}")


def freeze_answered(knowledge_base) -> bool:
    hits = chunk_search(knowledge_bases=[knowledge_base], query=FREEZE)
    return any("freeze" in hit.text for hit in hits)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "replaces",
    [
        "This policy replaces the membership policy dated 1 February 2024.",
        "It supersedes our Membership Policy (2024).",
        "This page replaces the version of February 2024.",
        "This policy supersedes the Membership Policy.",
    ],
)
def test_a_page_that_says_it_replaces_an_older_one_takes_it_out_of_search(
    tmp_path, knowledge_base, replaces
):
    ingest(help_center(tmp_path / "help", replaces), knowledge_base)

    assert document("membership-2024.md").superseded_by == document("membership.md")
    # The other page of that date is not named: it stays.
    assert document("climbing.md").superseded_by is None
    assert not freeze_answered(knowledge_base)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "replaces",
    [
        "This version supersedes all earlier versions.",  # no date, no title
        "This policy replaces the membership policy dated 1 March 2023.",  # no such date
        "Our new towel service replaces the towel rental.",  # not the page speaking
    ],
)
def test_a_vague_statement_replaces_nothing(tmp_path, knowledge_base, replaces):
    ingest(help_center(tmp_path / "help", replaces), knowledge_base)

    assert not Document.objects.filter(superseded_by__isnull=False).exists()
    assert freeze_answered(knowledge_base)


REPLACES = "This policy replaces the membership policy dated 1 February 2024."


@pytest.mark.django_db
def test_the_older_page_is_searched_again_when_the_newer_one_goes(tmp_path, knowledge_base):
    ingest(help_center(tmp_path / "help", REPLACES), knowledge_base)
    newer = document("membership.md")

    document_archive(document=newer, archived=True)
    assert freeze_answered(knowledge_base)
    document_archive(document=newer, archived=False)
    assert not freeze_answered(knowledge_base)

    document_delete(document=newer)
    assert document("membership-2024.md").superseded_by is None
    assert freeze_answered(knowledge_base)


@pytest.mark.django_db
def test_the_newer_page_stops_replacing_when_it_stops_saying_so(tmp_path, knowledge_base):
    folder = help_center(tmp_path / "help", REPLACES)
    ingest(folder, knowledge_base)

    (folder / "membership.md").write_text(NEW_POLICY.format(replaces=""))
    ingest(folder, knowledge_base)

    assert document("membership-2024.md").superseded_by is None
    assert freeze_answered(knowledge_base)


@pytest.mark.django_db
def test_both_pages_and_the_conflicts_page_say_so(tmp_path, knowledge_base, admin_client):
    ingest(help_center(tmp_path / "help", REPLACES), knowledge_base)
    older, newer = document("membership-2024.md"), document("membership.md")
    Document.objects.filter(pk=newer.pk).update(title="Membership <b>2025</b>")
    workspace = knowledge_base.workspace.slug

    def page(document):
        url = reverse("document", args=[workspace, knowledge_base.slug, document.pk])
        return url, admin_client.get(url).content.decode()

    newer_url, newer_page = page(newer)
    older_url, older_page = page(older)
    conflicts = admin_client.get(
        reverse("knowledge_conflicts", args=[workspace, knowledge_base.slug])
    ).content.decode()

    assert "Superseded" in older_page and f'href="{newer_url}"' in older_page
    assert "Replaces" in newer_page and f'href="{older_url}"' in newer_page
    assert "superseded by" in conflicts and REPLACES.rstrip(".") in conflicts
    assert "<b>2025</b>" not in conflicts and "Membership &lt;b&gt;2025" in conflicts
