"""Ingestion through the `ingest` command and the services behind it: every format, re-sync."""

import itertools
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from assistant.widget.demo import DEMO_KNOWLEDGE_DIR
from knowledge.ingest import INDEX_VERSION, document_delete, document_index, document_submit
from knowledge.models import Chunk, Document
from tests.support import files
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory

pytestmark = pytest.mark.django_db


def document(knowledge_base, name):
    return Document.objects.get(knowledge_base=knowledge_base, source__endswith="/" + name)


def test_markdown_keeps_its_heading_path(tmp_path, knowledge_base):
    (tmp_path / "returns.md").write_text(
        "# Returns\n\nWe take bikes back.\n\n## Start a return\n\nOpen **My Account** and choose "
        "[Request a return](https://shop.example/returns).\n\n"
        "### Guest orders\n\nUse the order form.\n"
    )
    output = ingest(tmp_path, knowledge_base)

    assert "added 1" in output
    doc = document(knowledge_base, "returns.md")
    assert (doc.title, doc.status, doc.chunk_count) == ("Returns", Document.Status.READY, 3)
    headings = list(doc.chunks.values_list("heading", "text"))
    assert headings == [
        ("Returns", "We take bikes back."),
        ("Returns > Start a return", "Open My Account and choose Request a return."),
        ("Returns > Start a return > Guest orders", "Use the order form."),
    ]


def test_html_keeps_the_article_and_drops_navigation_footer_scripts_and_styles(
    tmp_path, knowledge_base
):
    (tmp_path / "canada.html").write_text(
        "<!doctype html><html><head><title>Shipping to Canada</title>"
        "<style>.x{color:red}</style><script>var tracker = 'SECRET_TRACKER';</script></head>"
        "<body><nav><a href='/'>Home</a><a href='/shop'>Shop all bikes</a></nav>"
        "<main><article><h1>Shipping to Canada</h1><p>We ship to every province in 5 to 8 "
        "business days.</p><h2>Duties</h2><p>Duties are included on orders over CA$150.</p>"
        "</article></main><footer>Copyright Trailhead Cycles. Privacy policy.</footer>"
        "<script>document.write('INJECTED_BY_SCRIPT')</script></body></html>"
    )
    ingest(tmp_path, knowledge_base)

    doc = document(knowledge_base, "canada.html")
    text = " ".join(doc.chunks.values_list("text", flat=True))
    assert doc.title == "Shipping to Canada"
    assert "5 to 8 business days" in text and "CA$150" in text
    for dropped in ("Shop all bikes", "Copyright", "SECRET_TRACKER", "INJECTED_BY_SCRIPT", "color"):
        assert dropped not in text
    assert list(doc.chunks.values_list("heading", flat=True)) == [
        "Shipping to Canada",
        "Shipping to Canada > Duties",
    ]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-8"])
def test_plain_text_in_any_common_encoding(tmp_path, knowledge_base, encoding):
    text = (
        "Retours et remboursements. Vous pouvez retourner votre vélo dans les 30 jours. "
        "Le café du magasin est ouvert à 8 h. Señor Muñoz répond aux questions."
    )
    (tmp_path / "retours.txt").write_bytes(text.encode(encoding))
    ingest(tmp_path, knowledge_base)

    doc = document(knowledge_base, "retours.txt")
    assert doc.status == Document.Status.READY
    assert " ".join(doc.chunks.values_list("text", flat=True)) == text


def test_pdf_text_is_kept_per_page_for_citations(tmp_path, knowledge_base):
    pdf = sorted(DEMO_KNOWLEDGE_DIR.glob("*.pdf"))[0]
    shutil.copy(pdf, tmp_path / pdf.name)
    ingest(tmp_path, knowledge_base)

    doc = document(knowledge_base, pdf.name)
    assert doc.status == Document.Status.READY
    assert doc.page_count >= 2
    pages = set(doc.chunks.values_list("page", flat=True))
    assert pages == set(range(1, doc.page_count + 1))


def test_pdf_lines_wrapped_mid_sentence_are_joined(tmp_path, knowledge_base):
    """A PDF breaks lines where the page ends; a line break must mean a new sentence."""
    shutil.copy(DEMO_KNOWLEDGE_DIR / "e-bike-battery-care.pdf", tmp_path)
    ingest(tmp_path, knowledge_base)

    text = "\n".join(
        document(knowledge_base, "e-bike-battery-care.pdf").chunks.values_list("text", flat=True)
    )
    assert (
        "Please read this guide before charging your battery for the first time, and keep it "
        "with your bike." in text
    )
    assert "\n1. Your battery at a glance\n" in text  # a heading stays on its own line


def test_chunks_stay_within_the_model_window_and_never_end_mid_sentence(tmp_path, knowledge_base):
    sentences = [
        f"Sentence number {n} explains one more detail about the warranty." for n in range(300)
    ]
    (tmp_path / "long.md").write_text("# Warranty\n\n" + " ".join(sentences))
    ingest(tmp_path, knowledge_base)

    chunks = list(document(knowledge_base, "long.md").chunks.all())
    assert len(chunks) > 5
    for chunk in chunks:
        assert 150 <= chunk.token_count <= 256 or chunk is chunks[-1]
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith("warranty.")
    # consecutive chunks overlap by a sentence, so no fact is cut in two
    for before, after in itertools.pairwise(chunks):
        assert after.text.split(". ")[0] in before.text


def test_every_demo_document_is_indexed(demo_knowledge_base, db):
    documents = Document.objects.filter(knowledge_base=demo_knowledge_base)
    formats = {doc.source.rsplit(".", 1)[-1] for doc in documents}
    assert formats == {"md", "html", "pdf"}
    assert documents.count() == len(list(DEMO_KNOWLEDGE_DIR.iterdir()))
    assert {doc.status for doc in documents} == {Document.Status.READY}
    assert all(doc.chunk_count == doc.chunks.count() > 0 for doc in documents)


def test_resync_skips_unchanged_reembeds_changed_and_removes_deleted(tmp_path, knowledge_base):
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\nThe original text of {name}.\n")
    assert "added 3 · updated 0 · unchanged 0 · removed 0" in ingest(tmp_path, knowledge_base)
    untouched = list(document(knowledge_base, "a.md").chunks.values_list("pk", "embedding"))
    old_b_chunks = set(document(knowledge_base, "b.md").chunks.values_list("pk", flat=True))

    (tmp_path / "b.md").write_text("# b.md\n\nBikes can now be returned within 45 days.\n")
    (tmp_path / "c.md").unlink()
    (tmp_path / "d.md").write_text("# d.md\n\nA brand new article.\n")
    output = ingest(tmp_path, knowledge_base, "--sync")

    assert "added 1 · updated 1 · unchanged 1 · removed 1 · skipped 0 · failed 0" in output
    assert list(document(knowledge_base, "a.md").chunks.values_list("pk", "embedding")) == untouched
    b = document(knowledge_base, "b.md")
    assert not old_b_chunks & set(b.chunks.values_list("pk", flat=True))
    assert b.chunks.get().text == "Bikes can now be returned within 45 days."
    assert not Document.objects.filter(source__endswith="/c.md").exists()
    assert not Chunk.objects.filter(document__source__endswith="/c.md").exists()


def test_documents_indexed_by_an_older_pipeline_are_reindexed(tmp_path, knowledge_base):
    (tmp_path / "a.md").write_text("# A\n\nSame file, indexed long ago.\n")
    (tmp_path / "b.md").write_text("# B\n\nSame file, indexed today.\n")
    ingest(tmp_path, knowledge_base)
    Document.objects.filter(source__endswith="/a.md").update(index_version=INDEX_VERSION - 1)

    output = ingest(tmp_path, knowledge_base)

    assert "added 0 · updated 1 · unchanged 1" in output
    assert document(knowledge_base, "a.md").index_version == INDEX_VERSION


def test_reindex_queues_the_documents_an_older_version_indexed(tmp_path, knowledge_base, job_queue):
    """From an empty queue (`job_queue`): a test before it in the same process may have
    left a job there, as the queue's tables are not flushed."""
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\nSome text.\n")
    ingest(tmp_path, knowledge_base)
    old = document(knowledge_base, "a.md")
    Document.objects.filter(pk=old.pk).update(index_version=INDEX_VERSION - 1)
    failed = document(knowledge_base, "c.md")  # nothing to rebuild: it has no chunks
    Document.objects.filter(pk=failed.pk).update(index_version=0, status=Document.Status.FAILED)

    out = StringIO()
    call_command("reindex", stdout=out)

    assert out.getvalue().strip() == "Queued 1 document(s) indexed by an older version."
    jobs = ProcrastinateJob.objects.filter(task_name="knowledge.tasks.document_index_job")
    assert [job.args for job in jobs] == [{"document_id": old.pk}]
    assert document(knowledge_base, "a.md").status == Document.Status.QUEUED


def test_without_sync_missing_files_are_kept(tmp_path, knowledge_base):
    (tmp_path / "a.md").write_text("# A\n\nKeep me.\n")
    ingest(tmp_path, knowledge_base)
    (tmp_path / "a.md").unlink()
    (tmp_path / "b.md").write_text("# B\n\nNew.\n")
    assert "removed 0" in ingest(tmp_path, knowledge_base)
    assert document(knowledge_base, "a.md").status == Document.Status.READY


def test_a_document_deleted_while_it_was_indexed_stays_deleted(tmp_path, knowledge_base):
    (tmp_path / "returns.md").write_text("# Returns\n\nThirty days.\n")
    outcome = document_submit(
        knowledge_base=knowledge_base,
        source="returns.md",
        content=File((tmp_path / "returns.md").open("rb")),
    )
    Document.objects.filter(pk=outcome.document.pk).delete()  # staff delete it mid-indexing

    document_index(document=outcome.document)

    assert not Document.objects.filter(knowledge_base=knowledge_base).exists()
    assert not Chunk.objects.filter(knowledge_base=knowledge_base).exists()


def test_files_with_the_same_name_keep_it_in_storage_and_in_their_title(knowledge_base):
    other = KnowledgeBaseFactory(workspace=knowledge_base.workspace)
    for kb, text in ((knowledge_base, b"Stores open at nine."), (other, b"Stores close at six.")):
        outcome = document_submit(
            knowledge_base=kb,
            source="store-opening-hours",  # a source need not be a file name
            content=ContentFile(text, name="store-opening-hours.txt"),
        )
        document = document_index(document=outcome.document)
        assert Path(document.file.name).name == "store-opening-hours.txt"
        assert (document.title, document.status) == ("Store opening hours", Document.Status.READY)


def test_a_replaced_file_is_deleted_only_once_the_replacement_commits(
    knowledge_base, django_capture_on_commit_callbacks
):
    first = document_submit(
        knowledge_base=knowledge_base,
        source="returns.md",
        content=ContentFile(b"# Returns\n\nThirty days.\n", name="returns.md"),
    ).document
    old_file = first.file.name

    with pytest.raises(RuntimeError), transaction.atomic():
        document_submit(
            knowledge_base=knowledge_base,
            source="returns.md",
            content=ContentFile(b"# Returns\n\nForty days.\n", name="returns.md"),
        )
        raise RuntimeError("the request fails after the file was submitted")

    assert Document.objects.get(pk=first.pk).file.name == old_file
    assert first.file.storage.exists(old_file)

    with django_capture_on_commit_callbacks(execute=True):
        second = document_submit(
            knowledge_base=knowledge_base,
            source="returns.md",
            content=ContentFile(b"# Returns\n\nForty days.\n", name="returns.md"),
        ).document
    assert not first.file.storage.exists(old_file)
    assert second.file.storage.exists(second.file.name)


def test_a_deleted_documents_file_goes_only_once_the_delete_commits(
    knowledge_base, django_capture_on_commit_callbacks
):
    document = document_submit(
        knowledge_base=knowledge_base,
        source="fares.md",
        content=ContentFile(b"# Fares\n\nA day ticket costs four euros.\n", name="fares.md"),
    ).document
    stored = document.file.name

    with pytest.raises(RuntimeError), transaction.atomic():
        document_delete(document=Document.objects.get(pk=document.pk))
        raise RuntimeError("the request fails after the delete")

    assert Document.objects.filter(pk=document.pk).exists()
    assert document.file.storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=Document.objects.get(pk=document.pk))
    assert not document.file.storage.exists(stored)


def test_a_file_damaged_since_the_last_ingest_fails_and_its_last_good_version_stays(
    tmp_path, knowledge_base
):
    (tmp_path / "returns.md").write_text("# Returns\n\nThirty days.\n")
    ingest(tmp_path, knowledge_base)
    chunks = list(document(knowledge_base, "returns.md").chunks.values_list("pk", "text"))

    (tmp_path / "returns.md").write_bytes(files.binary_data())
    output = ingest(tmp_path, knowledge_base)

    assert "added 0 · updated 0 · unchanged 0 · removed 0 · skipped 0 · failed 1" in output
    assert "The new version could not be indexed: The file holds binary data" in output
    kept = document(knowledge_base, "returns.md")
    assert kept.status == Document.Status.READY
    assert list(kept.chunks.values_list("pk", "text")) == chunks
    assert kept.file.open("rb").read() == b"# Returns\n\nThirty days.\n"


def test_a_stored_file_gone_missing_keeps_the_passages_indexed_from_it(knowledge_base):
    outcome = document_submit(
        knowledge_base=knowledge_base,
        source="returns.md",
        content=ContentFile(b"# Returns\n\nThirty days.\n", name="returns.md"),
    )
    indexed = document_index(document=outcome.document)
    indexed.file.storage.delete(indexed.file.name)

    reindexed = document_index(document=Document.objects.get(pk=indexed.pk))

    assert reindexed.status == Document.Status.READY
    assert reindexed.error == (
        "Re-indexing failed: The stored file is missing; upload it again. "
        "The passages indexed before are still searched."
    )
    assert reindexed.chunks.get().text == "Thirty days."


def test_a_renamed_file_is_the_same_document_under_its_new_name(tmp_path, knowledge_base):
    (tmp_path / "store-hours.txt").write_text("We open at nine and close at six.")
    (tmp_path / "returns.md").write_text("# Returns\n\nThirty days.\n")
    ingest(tmp_path, knowledge_base)
    before = document(knowledge_base, "store-hours.txt")
    chunks = list(before.chunks.values_list("pk", "embedding"))
    assert before.title == "Store hours"

    (tmp_path / "store-hours.txt").rename(tmp_path / "opening-hours.txt")
    output = ingest(tmp_path, knowledge_base, "--sync")

    assert "added 0 · updated 0 · unchanged 1 · removed 0 · skipped 0 · failed 0 · renamed 1" in (
        output
    )
    assert f"renamed: {tmp_path / 'store-hours.txt'} → {tmp_path / 'opening-hours.txt'}" in output
    after = document(knowledge_base, "opening-hours.txt")
    assert (after.pk, after.title, after.status) == (before.pk, "Opening hours", "ready")
    assert list(after.chunks.values_list("pk", "embedding")) == chunks
    assert Path(after.file.name).name == "opening-hours.txt"
    assert knowledge_base.documents.count() == 2

    # re-indexed later, it keeps the new name's title
    assert document_index(document=after).title == "Opening hours"


def test_links_out_of_the_folder_are_skipped_and_said_so(tmp_path, knowledge_base):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe safe code is 1234.\n")
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "returns.md").write_text("# Returns\n\nThirty days.\n")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "more").symlink_to(outside, target_is_directory=True)

    output = ingest(folder, knowledge_base, "--sync")

    assert "added 1 · updated 0 · unchanged 0 · removed 0 · skipped 2 · failed 0" in output
    for link, target in ((folder / "more", outside), (folder / "secret.md", outside / "secret.md")):
        assert f"skipped: {link}: A link to {target}, outside the folder: not followed." in output
    assert list(knowledge_base.documents.values_list("source", flat=True)) == [
        str(folder / "returns.md")
    ]
