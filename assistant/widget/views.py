"""Public pages of the chat widget: the chat panel, a cited source, the demo site."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django.views.static import serve

from assistant.conversations.selectors import (
    citation_for_customer,
    workspace_avatar_exists,
    workspace_by_public_key,
)
from assistant.models import Workspace
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from assistant.widget.origins import origin_of
from knowledge.passages import document_passages

AVATARS = Workspace._meta.get_field("avatar").upload_to.rstrip("/")


@require_GET
@xframe_options_exempt
def chat_panel(request, public_key: str):
    """The iframe's page. Browsers frame it only on the workspace's allowed sites."""
    workspace = workspace_by_public_key(public_key=public_key)
    if workspace is None:
        raise Http404("No chat for this key.")
    response = render(
        request,
        "widget/panel.html",
        {"workspace": workspace, "max_message_chars": settings.KEEL_MAX_MESSAGE_CHARS},
    )
    ancestors = " ".join(sorted({origin_of(item) for item in workspace.allowed_origins} - {""}))
    response["Content-Security-Policy"] = f"frame-ancestors 'self' {ancestors}".strip()
    return response


@require_GET
def avatar(request, name: str):
    """A workspace's chat avatar, which every widget shows. Of the uploaded files only
    these are served: the others are knowledge documents, private to their workspace."""
    if not workspace_avatar_exists(name=f"{AVATARS}/{name}"):
        raise Http404("No such avatar.")
    return serve(request, name, document_root=settings.MEDIA_ROOT / AVATARS)


@require_GET
@vary_on_headers("HX-Request")
def cited_source(request, public_key: str, citation_id: str):
    """The document an answer cited, with the cited passage highlighted; for the chat
    panel (htmx), only the passage, shown in a sheet over the conversation."""
    citation = citation_for_customer(public_key=public_key, citation_id=citation_id)
    if citation is None:
        raise Http404("No such source.")
    if request.htmx:
        return render(request, "widget/_source_sheet.html", {"citation": citation})
    passages = (
        document_passages(document=citation.document, highlight_chunk_id=citation.chunk_id)
        if citation.document is not None and citation.chunk_id is not None
        else []
    )
    return render(
        request,
        "widget/source.html",
        {
            "citation": citation,
            "passages": passages,
            "workspace": citation.message.conversation.workspace,
        },
    )


@require_GET
def demo_site(request):
    """The fictional company's home page with the widget on it, as a customer would see it."""
    workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE_SLUG).first()
    if workspace is None:
        return redirect("home")
    return render(request, "demo/site.html", {"workspace": workspace})
