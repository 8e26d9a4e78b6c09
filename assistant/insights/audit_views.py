"""The audit trail for admins: browse and filter it, export it as CSV or JSON."""

import csv

from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assistant.common.access import admin_required
from assistant.conversations.selectors import audit_events
from assistant.insights.audit_lines import audit_lines
from assistant.insights.forms import AuditFilterForm
from assistant.models import AuditEvent

PAGE_SIZE = 50
EXPORT_FIELDS = ["id", "created_at", "kind", "conversation_id", "message_id", "actor", "detail"]


@require_GET
@admin_required
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_events(workspace=request.workspace, **filters)
    export = request.GET.get("export")
    if export == "csv":
        return _csv(events)
    if export == "json":
        return JsonResponse({"events": [_row(event) for event in events]})
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "audit/_events.html" if request.htmx else "audit/page.html"
    lines = audit_lines(events=list(page), workspace_slug=request.workspace.slug)
    context = {"form": form, "page": page, "lines": lines, "query": request.GET.urlencode()}
    return render(request, template, context)


def _row(event: AuditEvent) -> dict:
    return {
        "id": event.pk,
        "created_at": event.created_at.isoformat(),
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "message_id": event.message_id,
        "actor": event.actor.get_username() if event.actor else "",
        "detail": event.detail,
    }


def _csv(events) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    writer = csv.DictWriter(response, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for event in events.iterator():
        writer.writerow(_row(event))
    return response
