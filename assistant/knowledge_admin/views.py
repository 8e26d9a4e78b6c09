"""Admin pages for knowledge bases: upload, watch indexing, delete, re-index, archive, a
document's dates, and the conflicts between documents."""

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from assistant.common.access import admin_required
from assistant.knowledge_admin import document_changes
from assistant.knowledge_admin.document_changes import (
    document_archive_set,
    document_dates_edit,
    document_dates_reset,
    document_upload,
)
from assistant.knowledge_admin.forms import DocumentDatesForm
from assistant.knowledge_admin.quarantine import chunk_release
from assistant.knowledge_admin.website_views import website_sources_context
from knowledge.conflicts import knowledge_base_conflicts
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.selectors import (
    chunks_quarantined,
    document_list,
    documents_pending,
    knowledge_base_list,
)
from knowledge.supersession import knowledge_base_superseded
from knowledge.uploads import document_reindex


def _knowledge_base(request, knowledge_base_slug: str) -> KnowledgeBase:
    return get_object_or_404(KnowledgeBase, workspace=request.workspace, slug=knowledge_base_slug)


def _documents_context(knowledge_base: KnowledgeBase) -> dict:
    return {
        "knowledge_base": knowledge_base,
        "documents": document_list(knowledge_base=knowledge_base),
        "pending": documents_pending(knowledge_base=knowledge_base),
        "quarantined": chunks_quarantined(knowledge_base=knowledge_base),
    }


@require_GET
@admin_required
def knowledge_bases(request):
    return render(
        request,
        "knowledge/knowledge_bases.html",
        {"knowledge_bases": knowledge_base_list(workspace_slug=request.workspace.slug)},
    )


@require_GET
@admin_required
def knowledge_base_detail(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    context = {**_documents_context(knowledge_base), **website_sources_context(knowledge_base)}
    return render(request, "knowledge/knowledge_base.html", context)


@require_GET
@admin_required
def conflicts(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    today = timezone.localdate()
    context = {
        "knowledge_base": knowledge_base,
        "conflicts": knowledge_base_conflicts(knowledge_base=knowledge_base, today=today),
        "superseded": knowledge_base_superseded(knowledge_base=knowledge_base, today=today),
    }
    return render(request, "knowledge/conflicts.html", context)


@require_GET
@admin_required
def document_table(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    return render(request, "knowledge/_documents.html", _documents_context(knowledge_base))


@require_POST
@admin_required
def upload(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    files = request.FILES.getlist("files")
    outcomes = document_upload(knowledge_base=knowledge_base, files=files, actor=request.user)
    if not request.htmx:
        return redirect(
            "knowledge_base",
            workspace_slug=request.workspace.slug,
            knowledge_base_slug=knowledge_base.slug,
        )
    context = {
        **_documents_context(knowledge_base),
        "outcomes": outcomes,
        "nothing_sent": not files,
    }
    return render(request, "knowledge/_upload_result.html", context)


@require_POST
@admin_required
def document_remove(request, knowledge_base_slug: str, document_id: int):
    document = _document(request, knowledge_base_slug, document_id)
    document_changes.document_remove(document=document, actor=request.user)
    return _document_table_or_page(request, document.knowledge_base)


@require_POST
@admin_required
def document_reindex_request(request, knowledge_base_slug: str, document_id: int):
    document = _document(request, knowledge_base_slug, document_id)
    document_reindex(document=document)
    return _document_table_or_page(request, document.knowledge_base)


@require_POST
@admin_required
def document_archive_request(request, knowledge_base_slug: str, document_id: int):
    """Archive, or restore with `archived=0`."""
    document = _document(request, knowledge_base_slug, document_id)
    document_archive_set(
        document=document, archived=request.POST.get("archived") != "0", actor=request.user
    )
    return _document_table_or_page(request, document.knowledge_base)


@require_GET
@admin_required
def document_detail(request, knowledge_base_slug: str, document_id: int):
    document = _document(request, knowledge_base_slug, document_id)
    return render(
        request,
        "knowledge/document.html",
        {"document": document, "form": DocumentDatesForm(instance=document)},
    )


@require_POST
@admin_required
def document_dates(request, knowledge_base_slug: str, document_id: int):
    """Set the document's dates, or (`read_from_text`) go back to those its text states."""
    document = _document(request, knowledge_base_slug, document_id)
    form = DocumentDatesForm(request.POST, instance=document)
    if "read_from_text" in request.POST:
        document_dates_reset(document=document, actor=request.user)
        saved = "The dates will be read from the document again as it is re-indexed."
    elif form.is_valid():
        document_dates_edit(document=document, **form.cleaned_data, actor=request.user)
        saved = "Saved. Re-indexing keeps these dates."
    elif request.htmx:  # htmx swaps a 2xx response only: the errors show in place
        return render(
            request, "knowledge/_document_dates.html", {"document": document, "form": form}
        )
    else:
        return render(
            request, "knowledge/document.html", {"document": document, "form": form}, status=400
        )
    if not request.htmx:
        return redirect(
            "document",
            workspace_slug=request.workspace.slug,
            knowledge_base_slug=knowledge_base_slug,
            document_id=document.pk,
        )
    document.refresh_from_db()
    context = {"document": document, "form": DocumentDatesForm(instance=document), "saved": saved}
    return render(request, "knowledge/_document_dates.html", context)


def _document(request, knowledge_base_slug: str, document_id: int) -> Document:
    return get_object_or_404(
        Document.objects.select_related("knowledge_base"),
        pk=document_id,
        knowledge_base__workspace=request.workspace,
        knowledge_base__slug=knowledge_base_slug,
    )


def _document_table_or_page(request, knowledge_base: KnowledgeBase):
    if request.htmx:
        return render(request, "knowledge/_documents.html", _documents_context(knowledge_base))
    return redirect(
        "knowledge_base",
        workspace_slug=request.workspace.slug,
        knowledge_base_slug=knowledge_base.slug,
    )


@require_POST
@admin_required
def chunk_release_request(request, knowledge_base_slug: str, chunk_id: int):
    """An admin has read a quarantined passage and lets the assistant use it."""
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    chunk = get_object_or_404(Chunk, knowledge_base=knowledge_base, pk=chunk_id, quarantined=True)
    chunk_release(chunk=chunk, actor=request.user)
    return render(
        request,
        "knowledge/_quarantine.html",
        {
            "knowledge_base": knowledge_base,
            "quarantined": chunks_quarantined(knowledge_base=knowledge_base),
        },
    )
