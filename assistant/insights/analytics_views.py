"""The analytics dashboard for admins, and its CSV export of conversations with their ratings.

The figures and their definitions are in assistant.insights.analytics."""

import csv
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from assistant.common.access import admin_required
from assistant.conversations.selectors import workspaces_administered
from assistant.insights.analytics import conversations_with_outcomes, workspace_analytics
from assistant.insights.forms import AnalyticsFilterForm
from assistant.models import Conversation

CSV_HEADER = [
    "id",
    "started",
    "customer id",
    "state",
    "customer messages",
    "answers",
    "don't-know answers",
    "handed off (first reason)",
    "thumbs up",
    "thumbs down",
    "CSAT",
    "automated resolution",
    "durable resolution",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@require_GET
@admin_required
def analytics_page(request):
    form = _filter_form(request)
    if not form.is_valid():
        return render(request, "analytics/page.html", {"form": form})
    filters = form.cleaned_data
    query = _query(filters)
    if filters["workspace"] != request.workspace.slug:
        return redirect(f"{reverse('analytics', args=[filters['workspace']])}?{query}")
    figures = workspace_analytics(
        workspace=request.workspace,
        start=filters["start"],
        end=filters["end"],
        stale_days=filters["stale_days"],
        now=timezone.now(),
    )
    return render(
        request, "analytics/page.html", {"form": form, "figures": figures, "query": query}
    )


@require_GET
@admin_required
def conversations_csv(request):
    form = _filter_form(request)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    filters = form.cleaned_data
    conversations = conversations_with_outcomes(
        workspace=request.workspace, start=filters["start"], end=filters["end"], now=timezone.now()
    )
    response = StreamingHttpResponse(
        _csv_lines(conversations), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="conversations-{request.workspace.slug}-'
        f'{filters["start"]:%Y%m%d}-{filters["end"]:%Y%m%d}.csv"'
    )
    return response


def _filter_form(request) -> AnalyticsFilterForm:
    return AnalyticsFilterForm(
        request.GET,
        workspace=request.workspace,
        workspaces=workspaces_administered(user=request.user),
        today=timezone.localdate(),
    )


def _query(filters: dict) -> str:
    """The date range and stale days, for links that keep them."""
    return urlencode(
        {
            "start": filters["start"].isoformat(),
            "end": filters["end"].isoformat(),
            "stale_days": filters["stale_days"],
        }
    )


class _Line:
    """csv.writer writes each row here and gets it back as a string to stream."""

    def write(self, line: str) -> str:
        return line


async def _csv_lines(conversations) -> AsyncIterator[str]:
    # An asynchronous iterator: daphne streams it without loading every row first.
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_HEADER)
    async for conversation in conversations.aiterator():
        yield writer.writerow([_cell(value) for value in _csv_row(conversation)])


def _csv_row(conversation: Conversation) -> list:
    return [
        conversation.pk,
        timezone.localtime(conversation.started_at).strftime("%Y-%m-%d %H:%M"),
        conversation.customer_id,
        conversation.state,
        conversation.customer_messages,
        conversation.answers,
        conversation.dont_know_answers,
        conversation.first_handoff_reason or "",
        conversation.thumbs_up,
        conversation.thumbs_down,
        "" if conversation.csat is None else conversation.csat,
        "yes" if conversation.automated else "no",
        conversation.durable,
    ]


def _cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
