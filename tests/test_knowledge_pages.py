"""The admin's knowledge pages: roles, uploads through the job queue, delete, re-index."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from assistant.models import Membership
from knowledge.models import Chunk, Document
from knowledge.search import chunk_search
from tests.support import files
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory, UserFactory


def url(name, knowledge_base, **kwargs):
    return reverse(
        name,
        kwargs={
            "workspace_slug": knowledge_base.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
            **kwargs,
        },
    )


def upload(client, knowledge_base, *uploads):
    return client.post(
        url("document_upload", knowledge_base),
        {"files": list(uploads)},
        headers={"HX-Request": "true"},
    )


@pytest.mark.django_db
def test_pages_need_login_and_membership_and_the_admin_role(client, knowledge_base):
    page = url("knowledge_base", knowledge_base)
    assert client.get(page).url.startswith(reverse("login"))

    client.force_login(UserFactory())
    assert client.get(page).status_code == 404  # not a member: the workspace is not revealed

    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(page).status_code == 403
    assert (
        upload(client, knowledge_base, SimpleUploadedFile("a.md", b"# A\n\nText.")).status_code
        == 403
    )
    assert not knowledge_base.documents.exists()


@pytest.mark.django_db
def test_home_leads_a_member_to_their_workspace(admin_client, admin_membership):
    """To its console, where customers wait: admins answer them too."""
    response = admin_client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    workspace = admin_membership.workspace
    assert response.redirect_chain[-1][0] == reverse("console", args=[workspace.slug])
    assert reverse("knowledge_bases", args=[workspace.slug]).encode() in response.content


def test_several_uploads_are_indexed_by_the_worker_not_the_request(
    admin_client, knowledge_base, job_queue
):
    response = upload(
        admin_client,
        knowledge_base,
        SimpleUploadedFile("returns.md", b"# Returns\n\nBikes go back within 30 days."),
        SimpleUploadedFile(
            "hours.html",
            b"<html><body><main><h1>Hours</h1><p>We open at nine every day.</p>"
            b"</main></body></html>",
        ),
        SimpleUploadedFile("locked.pdf", files.pdf_with_password()),
    )

    assert response.status_code == 200
    assert response.content.count(b"queued for indexing") == 3
    assert set(knowledge_base.documents.values_list("status", flat=True)) == {
        Document.Status.QUEUED
    }
    assert not Chunk.objects.filter(document__knowledge_base=knowledge_base).exists()
    assert (
        ProcrastinateJob.objects.filter(task_name="knowledge.tasks.document_index_job").count() == 3
    )
    # the table polls while anything is pending
    assert b'hx-trigger="every 2s"' in response.content

    job_queue()

    table = admin_client.get(url("document_table", knowledge_base), headers={"HX-Request": "true"})
    statuses = dict(knowledge_base.documents.values_list("source", "status"))
    assert statuses == {
        "returns.md": Document.Status.READY,
        "hours.html": Document.Status.READY,
        "locked.pdf": Document.Status.FAILED,
    }
    assert b'Failed: <span class="reason">The PDF is password-protected' in table.content
    assert b"every 2s" not in table.content  # nothing pending: polling stops
    assert (
        Chunk.objects.filter(document__knowledge_base=knowledge_base, document__source="returns.md")
        .get()
        .text
        == "Bikes go back within 30 days."
    )


def test_uploading_the_same_file_again_changes_nothing(admin_client, knowledge_base, job_queue):
    content = b"# Returns\n\nBikes go back within 30 days."
    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", content))
    job_queue()

    again = upload(
        admin_client,
        knowledge_base,
        SimpleUploadedFile("returns.md", content),
        SimpleUploadedFile("returns-copy.md", content),
    )

    assert b"unchanged, already indexed" in again.content
    assert b"skipped: Same content as" in again.content
    assert knowledge_base.documents.get().status == Document.Status.READY
    assert ProcrastinateJob.objects.filter(status="todo").count() == 0


def stored(document) -> set[Path]:
    """Every stored document file."""
    return {path for path in Path(document.file.path).parents[1].rglob("*") if path.is_file()}


def test_a_damaged_new_version_keeps_the_good_one_searchable_and_says_why(
    admin_client, knowledge_base, job_queue
):
    good = b"# Returns\n\nBikes go back within 30 days."
    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", good))
    job_queue()
    document = knowledge_base.documents.get()
    good_file, good_chunks = document.file.name, list(document.chunks.values_list("pk", "text"))

    stored_files = stored(document)
    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", files.binary_data()))
    job_queue()

    document.refresh_from_db()
    assert (document.status, document.file.name) == (Document.Status.READY, good_file)
    assert document.file.open("rb").read() == good
    assert list(document.chunks.values_list("pk", "text")) == good_chunks
    assert document.chunk_count == len(good_chunks)
    [hit] = chunk_search(knowledge_bases=[knowledge_base], query="return a bike", k=1)
    assert hit.text == "Bikes go back within 30 days."
    table = admin_client.get(url("document_table", knowledge_base)).content.decode()
    assert (
        'Ready: <span class="reason">The new version could not be indexed: The file holds '
        "binary data, not text" in table
    )
    assert "The previous version is still in use." in table
    assert stored(document) == stored_files  # the damaged upload is not kept

    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", good + b" Or 45."))
    job_queue()
    document.refresh_from_db()
    assert (document.status, document.error) == (Document.Status.READY, "")
    assert document.chunks.get().text == "Bikes go back within 30 days. Or 45."
    assert not document.file.storage.exists(good_file)


@override_settings(KEEL_MAX_UPLOAD_BYTES=50 * 1024 * 1024)
def test_a_50_mb_upload_is_refused_with_a_reason_and_not_stored(
    admin_client, knowledge_base, job_queue
):
    huge = SimpleUploadedFile("catalogue.pdf", b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024 + 1))
    response = upload(admin_client, knowledge_base, huge)

    assert b"failed: The file is 50.0\xc2\xa0MB; the limit is 50.0\xc2\xa0MB." in response.content
    document = knowledge_base.documents.get()
    assert document.status == Document.Status.FAILED and not document.file
    assert not ProcrastinateJob.objects.exists()


@pytest.mark.django_db
def test_uploading_nothing_says_so(admin_client, knowledge_base):
    response = upload(admin_client, knowledge_base)
    assert b"Choose one or more files first." in response.content


def test_delete_removes_document_chunks_and_file(admin_client, knowledge_base, job_queue):
    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", b"# Returns\n\n30 days."))
    job_queue()
    document = knowledge_base.documents.get()
    stored = Path(document.file.path)
    assert stored.exists()

    response = admin_client.post(
        url("document_delete", knowledge_base, document_id=document.pk),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200 and b"No documents yet" in response.content
    assert not knowledge_base.documents.exists()
    assert not Chunk.objects.filter(document__knowledge_base=knowledge_base).exists()
    assert not stored.exists()


def test_reindex_queues_a_job_and_the_worker_rebuilds_the_chunks(
    admin_client, knowledge_base, job_queue
):
    upload(admin_client, knowledge_base, SimpleUploadedFile("returns.md", b"# Returns\n\n30 days."))
    job_queue()
    document = knowledge_base.documents.get()
    old_chunks = set(document.chunks.values_list("pk", flat=True))

    response = admin_client.post(
        url("document_reindex", knowledge_base, document_id=document.pk),
        headers={"HX-Request": "true"},
    )
    assert b'data-status="queued"' in response.content
    job_queue()

    document.refresh_from_db()
    assert document.status == Document.Status.READY
    assert set(document.chunks.values_list("pk", flat=True)).isdisjoint(old_chunks)


def test_an_archived_document_is_kept_but_not_searched_until_restored(
    admin_client, knowledge_base, job_queue
):
    upload(
        admin_client,
        knowledge_base,
        SimpleUploadedFile("returns.md", b"# Returns\n\nUnused items can be returned in 30 days."),
    )
    job_queue()
    document = knowledge_base.documents.get()

    def found() -> bool:
        hits = chunk_search(knowledge_bases=[knowledge_base], query="return an item")
        return any(hit.document_id == document.pk for hit in hits)

    archive = url("document_archive", knowledge_base, document_id=document.pk)
    response = admin_client.post(archive, {"archived": "1"}, headers={"HX-Request": "true"})
    assert b"archived, not searched" in response.content and b">Restore<" in response.content
    assert document.chunks.exists() and not found()

    response = admin_client.post(archive, {"archived": "0"}, headers={"HX-Request": "true"})
    assert b"archived, not searched" not in response.content and b">Archive<" in response.content
    assert found()

    # An agent cannot archive.
    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    admin_client.force_login(agent.user)
    assert admin_client.post(archive, {"archived": "1"}).status_code == 403
    document.refresh_from_db()
    assert not document.archived


@pytest.mark.django_db
def test_another_workspace_documents_are_out_of_reach(admin_client, knowledge_base):
    other = KnowledgeBaseFactory()
    theirs = other.documents.create(source="secret.md", title="Secret")

    # their knowledge base through our workspace's URL, and their document through ours
    assert (
        admin_client.get(
            reverse(
                "knowledge_base",
                kwargs={
                    "workspace_slug": knowledge_base.workspace.slug,
                    "knowledge_base_slug": other.slug,
                },
            )
        ).status_code
        == 404
    )
    for action in ("document_delete", "document_archive"):
        assert (
            admin_client.post(url(action, knowledge_base, document_id=theirs.pk)).status_code == 404
        )
    assert (
        admin_client.get(
            reverse(
                "knowledge_base",
                kwargs={"workspace_slug": other.workspace.slug, "knowledge_base_slug": other.slug},
            )
        ).status_code
        == 404
    )
    assert other.documents.filter(pk=theirs.pk).exists()
    assert b"Secret" not in admin_client.get(url("knowledge_base", knowledge_base)).content


@pytest.mark.django_db
def test_posts_without_a_csrf_token_are_refused(admin_membership, knowledge_base):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_membership.user)
    response = upload(client, knowledge_base, SimpleUploadedFile("a.md", b"# A\n\nText."))
    assert response.status_code == 403
    assert not knowledge_base.documents.exists()


@pytest.mark.django_db
def test_document_supplied_text_is_escaped(admin_client, knowledge_base):
    knowledge_base.documents.create(
        knowledge_base=knowledge_base,
        source="<img src=x onerror=alert(1)>.md",
        title="<script>alert('title')</script>",
        status=Document.Status.FAILED,
        error="<b>bad</b>",
    )
    content = admin_client.get(url("knowledge_base", knowledge_base)).content
    assert b"<script>alert('title')" not in content and b"<img src=x" not in content
    assert b"&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in content
    assert b"&lt;b&gt;bad&lt;/b&gt;" in content
