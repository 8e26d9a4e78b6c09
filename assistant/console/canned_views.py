"""Canned replies: admins keep them on a small page; agents insert them in the composer by
typing `/shortcut` (the list comes from `canned_replies_json`)."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assistant.common.access import admin_required, staff_required
from assistant.console.forms import CannedReplyForm
from assistant.console.selectors import (
    canned_replies,
    canned_replies_matching,
    canned_reply_in_workspace,
)
from assistant.console.services import (
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
)


@require_http_methods(["GET", "POST"])
@admin_required
def canned_reply_list(request):
    form = CannedReplyForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        canned = canned_reply_create(
            workspace=request.workspace, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Canned reply /{canned.shortcut} added.")
        return redirect("canned_replies", workspace_slug=request.workspace.slug)
    return render(
        request,
        "console/canned_replies.html",
        {"form": form, "canned_replies": canned_replies(workspace=request.workspace)},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def canned_reply_edit(request, canned_reply_id: int):
    canned = _canned(request, canned_reply_id)
    form = CannedReplyForm(request.POST or None, instance=canned, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        canned_reply_update(canned_reply=canned, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Canned reply /{canned.shortcut} saved.")
        return redirect("canned_replies", workspace_slug=request.workspace.slug)
    return render(
        request,
        "console/canned_reply_edit.html",
        {"form": form, "canned": canned},
        status=400 if form.errors else 200,
    )


@require_POST
@admin_required
def canned_reply_remove(request, canned_reply_id: int):
    canned = _canned(request, canned_reply_id)
    canned_reply_delete(canned_reply=canned, actor=request.user)
    messages.success(request, f"Canned reply /{canned.shortcut} deleted.")
    return redirect("canned_replies", workspace_slug=request.workspace.slug)


@require_GET
@staff_required
def canned_replies_json(request):
    """The workspace's canned replies whose shortcut starts with `q`, for the composer."""
    found = canned_replies_matching(
        workspace=request.workspace, prefix=request.GET.get("q", "")[:40]
    )
    return JsonResponse(
        {
            "replies": [
                {"shortcut": canned.shortcut, "title": canned.title, "body": canned.body}
                for canned in found
            ]
        }
    )


def _canned(request, canned_reply_id: int):
    canned = canned_reply_in_workspace(workspace=request.workspace, canned_reply_id=canned_reply_id)
    if canned is None:
        raise Http404("No such canned reply in this workspace.")
    return canned
