"""Every kind of bad file gets a clear reason and costs nothing else in its batch."""

import pytest
from django.test import override_settings

from knowledge.models import Document
from tests.support import files
from tests.support.commands import ingest

pytestmark = pytest.mark.django_db

BAD_FILES = {
    "corrupt.pdf": (files.pdf_corrupt, "The PDF is damaged and cannot be read"),
    "locked.pdf": (files.pdf_with_password, "The PDF is password-protected"),
    "scanned.pdf": (files.pdf_without_text_layer, "The PDF has no text layer"),
    "empty.md": (lambda: b"", "The file is empty."),
    "blank.txt": (lambda: b"  \n\n \t", "The file is empty."),
    "photo.txt": (files.binary_data, "The file holds binary data, not text"),
    "slides.pptx": (lambda: b"PK\x03\x04 not really", "Unsupported file type '.pptx'"),
    "only-scripts.html": (
        lambda: (
            b"<html><head><script>alert(1)</script></head><body><script>steal()</script>"
            b"<style>p{}</style></body></html>"
        ),
        "No readable main content was found in the HTML page.",
    ),
}


def test_each_bad_file_fails_alone_with_a_readable_reason(tmp_path, knowledge_base):
    for name, (make, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(make())
    (tmp_path / "good.md").write_text("# Good\n\nThis one is fine.\n")
    (tmp_path / "also-good.txt").write_text("Stores open at nine.")

    output = ingest(tmp_path, knowledge_base)

    assert (
        f"added 2 · updated 0 · unchanged 0 · removed 0 · skipped 0 · failed {len(BAD_FILES)}"
        in output
    )
    for name, (_, reason) in BAD_FILES.items():
        failed = Document.objects.get(knowledge_base=knowledge_base, source__endswith="/" + name)
        assert failed.status == Document.Status.FAILED, name
        assert failed.error.startswith(reason), (name, failed.error)
        assert failed.chunks.count() == 0
        assert f"failed: {failed.source}: {reason}" in output
    ready = Document.objects.filter(knowledge_base=knowledge_base, status=Document.Status.READY)
    assert sorted(doc.title for doc in ready) == ["Also good", "Good"]


@override_settings(KEEL_MAX_UPLOAD_BYTES=1024)
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, knowledge_base):
    (tmp_path / "huge.md").write_text("# Huge\n\n" + "All work and no play. " * 200)
    (tmp_path / "small.md").write_text("# Small\n\nFits.\n")

    output = ingest(tmp_path, knowledge_base)

    huge = Document.objects.get(source__endswith="/huge.md")
    assert huge.status == Document.Status.FAILED
    assert huge.error == "The file is 4.3\xa0KB; the limit is 1.0\xa0KB."
    assert not huge.file
    assert "added 1" in output and "failed 1" in output


def test_the_same_file_twice_is_indexed_once(tmp_path, knowledge_base):
    (tmp_path / "returns.md").write_text("# Returns\n\nThirty days.\n")
    (tmp_path / "returns-copy.md").write_text("# Returns\n\nThirty days.\n")

    output = ingest(tmp_path, knowledge_base)

    assert "added 1 · updated 0 · unchanged 0 · removed 0 · skipped 1 · failed 0" in output
    assert "Same content as" in output
    assert Document.objects.filter(knowledge_base=knowledge_base).count() == 1
    again = ingest(tmp_path, knowledge_base)
    assert "added 0 · updated 0 · unchanged 1 · removed 0 · skipped 1 · failed 0" in again


def test_a_bad_new_version_leaves_the_good_old_one_searchable(tmp_path, knowledge_base):
    (tmp_path / "faq.md").write_text("# FAQ\n\nWe open at nine.\n")
    ingest(tmp_path, knowledge_base)
    (tmp_path / "faq.md").write_bytes(b"")

    output = ingest(tmp_path, knowledge_base)

    assert "failed 1" in output
    faq = Document.objects.get(source__endswith="/faq.md")
    assert faq.status == Document.Status.READY
    assert faq.chunks.get().text == "We open at nine."
