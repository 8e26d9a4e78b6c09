"""Admin pages for a knowledge base's website sources: add one, sync it now, remove it.
Each answers with the sources' partial (`knowledge/_websites.html`, or its list)."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from assistant.common.access import admin_required
from assistant.knowledge_admin.forms import WebsiteSourceForm
from knowledge.models import KnowledgeBase, WebsiteSource
from knowledge.selectors import website_source_list
from knowledge.website_sources import (
    website_source_add,
    website_source_remove,
    website_source_sync_request,
)


def website_sources_context(knowledge_base: KnowledgeBase, form=None) -> dict:
    sources = website_source_list(knowledge_base=knowledge_base)
    return {
        "knowledge_base": knowledge_base,
        "website_sources": sources,
        "website_form": form or WebsiteSourceForm(knowledge_base=knowledge_base),
        "websites_busy": any(
            source.status in (WebsiteSource.Status.QUEUED, WebsiteSource.Status.SYNCING)
            for source in sources
        ),
    }


def _knowledge_base(request, knowledge_base_slug: str) -> KnowledgeBase:
    return get_object_or_404(KnowledgeBase, workspace=request.workspace, slug=knowledge_base_slug)


def _source(request, knowledge_base_slug: str, source_id: int) -> WebsiteSource:
    return get_object_or_404(
        WebsiteSource.objects.select_related("knowledge_base"),
        pk=source_id,
        knowledge_base__workspace=request.workspace,
        knowledge_base__slug=knowledge_base_slug,
    )


def _websites_partial(request, template: str, context: dict):
    """The partial, and word to the documents table that a sync may have changed it."""
    return trigger_client_event(render(request, template, context), "websites-changed")


def _website_list_or_page(request, knowledge_base: KnowledgeBase):
    if request.htmx:
        context = website_sources_context(knowledge_base)
        return _websites_partial(request, "knowledge/_website_list.html", context)
    return redirect(
        "knowledge_base",
        workspace_slug=request.workspace.slug,
        knowledge_base_slug=knowledge_base.slug,
    )


@require_GET
@admin_required
def website_sources(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    context = website_sources_context(knowledge_base)
    return _websites_partial(request, "knowledge/_website_list.html", context)


@require_POST
@admin_required
def website_add(request, knowledge_base_slug: str):
    knowledge_base = _knowledge_base(request, knowledge_base_slug)
    form = WebsiteSourceForm(request.POST, knowledge_base=knowledge_base)
    if form.is_valid():
        website_source_add(knowledge_base=knowledge_base, **form.cleaned_data, actor=request.user)
        if not request.htmx:
            return _website_list_or_page(request, knowledge_base)
        form = None  # a fresh one, for the next website
    elif not request.htmx:  # without htmx, the form and its errors on a page of their own
        context = website_sources_context(knowledge_base, form)
        return render(request, "knowledge/website_add.html", context, status=400)
    # htmx swaps a 2xx response only: the errors show in place
    context = website_sources_context(knowledge_base, form)
    return _websites_partial(request, "knowledge/_websites.html", context)


@require_POST
@admin_required
def website_sync(request, knowledge_base_slug: str, source_id: int):
    source = _source(request, knowledge_base_slug, source_id)
    website_source_sync_request(source=source, actor=request.user)
    return _website_list_or_page(request, source.knowledge_base)


@require_POST
@admin_required
def website_remove(request, knowledge_base_slug: str, source_id: int):
    source = _source(request, knowledge_base_slug, source_id)
    website_source_remove(source=source, actor=request.user)
    return _website_list_or_page(request, source.knowledge_base)
