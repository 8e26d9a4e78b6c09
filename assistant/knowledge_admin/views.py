"""Admin pages for knowledge bases: create, rename and delete them; upload, watch
indexing, delete, re-index, archive and restore documents; a document's passages as
search reads them, and its dates; a test question; the conflicts between documents."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assistant.common.access import admin_required
from assistant.knowledge_admin import document_changes
from assistant.knowledge_admin.document_changes import (
    document_archive_set,
    document_dates_edit,
    document_dates_reset,
    document_upload,
)
from assistant.knowledge_admin.forms import (
    DocumentDatesForm,
    KnowledgeBaseNameForm,
    QuestionTestForm,
)
from assistant.knowledge_admin.knowledge_base_changes import (
    knowledge_base_add,
    knowledge_base_name_change,
    knowledge_base_remove,
)
from assistant.knowledge_admin.quarantine import chunk_release
from assistant.knowledge_admin.question_test import question_test
from assistant.knowledge_admin.website_views import website_sources_context
from knowledge.conflicts import knowledge_base_conflicts
from knowledge.knowledge_bases import NameTaken
from knowledge.models import Chunk, Document, KnowledgeBase
from knowledge.selectors import (
    chunks_quarantined,
    document_chunks,
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


# A long document's passages come this many at a time.
PASSAGES_PER_PAGE = 50


def _name_taken(form, name: str) -> None:
    form.add_error("name", f"This workspace already has a knowledge base named “{name}”.")


@require_http_methods(["GET", "POST"])
@admin_required
def knowledge_bases(request):
    """The list, and (POST) a new knowledge base, opened once made."""
    form = KnowledgeBaseNameForm(request.POST or None)
    if form.is_valid():
        try:
            knowledge_base = knowledge_base_add(
                workspace_id=request.workspace.pk,
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except NameTaken:
            _name_taken(form, form.cleaned_data["name"])
        else:
            return redirect(
                "knowledge_base",
                workspace_slug=request.workspace.slug,
                knowledge_base_slug=knowledge_base.slug,
            )
    context = {
        "knowledge_bases": knowledge_base_list(workspace_slug=request.workspace.slug),
        "form": form,
    }
    return render(
        request, "knowledge/knowledge_bases.html", context, status=400 if form.errors else 200
    )


@require_GET
@admin_required
def knowledge_base_detail(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    return render(request, "knowledge/knowledge_base.html", _knowledge_base_context(knowledge_base))


def _knowledge_base_context(knowledge_base: KnowledgeBase, **more) -> dict:
    return {
        **_documents_context(knowledge_base),
        **website_sources_context(knowledge_base),
        "name_form": KnowledgeBaseNameForm(initial={"name": knowledge_base.name}),
        "question_form": QuestionTestForm(),
        **more,
    }


@require_POST
@admin_required
def knowledge_base_rename(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    form = KnowledgeBaseNameForm(request.POST)
    if form.is_valid():
        try:
            knowledge_base_name_change(
                knowledge_base=knowledge_base, name=form.cleaned_data["name"], actor=request.user
            )
        except NameTaken:
            _name_taken(form, form.cleaned_data["name"])
    if request.htmx:  # htmx swaps a 2xx response only: the errors show in place
        context = {"knowledge_base": knowledge_base, "name_form": form, "renamed": not form.errors}
        return render(request, "knowledge/_knowledge_base_name.html", context)
    if form.errors:
        context = _knowledge_base_context(knowledge_base, name_form=form)
        return render(request, "knowledge/knowledge_base.html", context, status=400)
    return redirect(
        "knowledge_base",
        workspace_slug=request.workspace.slug,
        knowledge_base_slug=knowledge_base.slug,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def knowledge_base_delete(request, knowledge_base_slug: str):
    """GET: what would go, and a button; POST: it goes."""
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    if request.method == "POST":
        knowledge_base_remove(knowledge_base=knowledge_base, actor=request.user)
        return redirect("knowledge_bases", workspace_slug=request.workspace.slug)
    context = {
        "knowledge_base": knowledge_base,
        "documents": knowledge_base.documents.count(),
        "websites": knowledge_base.website_sources.count(),
    }
    return render(request, "knowledge/knowledge_base_delete.html", context)


@require_GET
@admin_required
def knowledge_question(request, knowledge_base_slug: str):
    """The test question's passages: a partial for htmx, a page of its own without."""
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    form = QuestionTestForm(request.GET or None)
    tested = None
    if form.is_valid():
        tested = question_test(
            knowledge_base=knowledge_base, question=form.cleaned_data["question"]
        )
    context = {"knowledge_base": knowledge_base, "question_form": form, "tested": tested}
    template = "knowledge/_question_test.html" if request.htmx else "knowledge/question_test.html"
    return render(request, template, context)


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
    if request.POST.get("from") == "document":  # the document's own page's button
        return redirect(
            "document",
            workspace_slug=request.workspace.slug,
            knowledge_base_slug=knowledge_base_slug,
            document_id=document.pk,
        )
    return _document_table_or_page(request, document.knowledge_base)


@require_GET
@admin_required
def document_detail(request, knowledge_base_slug: str, document_id: int):
    """The page; for htmx's "more", the next page of its passages (`?page=`) alone."""
    document = _document(request, knowledge_base_slug, document_id)
    context = _document_context(document, page=request.GET.get("page"))
    template = "knowledge/_passages.html" if request.htmx else "knowledge/document.html"
    return render(request, template, context)


def _passages(document: Document, *, page: str | None):
    return Paginator(document_chunks(document=document), PASSAGES_PER_PAGE).get_page(page)


def _document_context(document: Document, *, page: str | None = None, **more) -> dict:
    return {
        "document": document,
        "form": DocumentDatesForm(instance=document),
        "passages": _passages(document, page=page),
        **more,
    }


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
            request, "knowledge/document.html", _document_context(document, form=form), status=400
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
