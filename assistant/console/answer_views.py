"""Staff views of what the assistant said and why."""

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assistant.common.access import staff_required
from assistant.conversations.selectors import answer_in_workspace, message_audit_events, question_of


@require_GET
@staff_required
def answer_page(request, message_id: int):
    """Why the assistant said what it said: passages and scores, policy, rails, timings."""
    answer = answer_in_workspace(workspace=request.workspace, message_id=message_id)
    if answer is None:
        raise Http404("No such answer in this workspace.")
    question = question_of(answer=answer)
    return render(
        request,
        "answers/page.html",
        {
            "answer": answer,
            "question": question,
            "trace": answer.trace,
            "audits": message_audit_events(messages=[m for m in (question, answer) if m]),
        },
    )


@require_GET
@staff_required
def answer_trace(request, message_id: int):
    """One answer's trace as JSON: text, outcome, citations, retrieval, rails, timings."""
    answer = answer_in_workspace(workspace=request.workspace, message_id=message_id)
    if answer is None:
        raise Http404("No such answer in this workspace.")
    return JsonResponse(
        {
            "message_id": answer.pk,
            "conversation_id": answer.conversation_id,
            "created_at": answer.created_at.isoformat(),
            "outcome": answer.outcome,
            "text": answer.text,
            "citations": [
                {
                    "marker": citation.marker,
                    "document": citation.document_title,
                    "heading": citation.heading,
                    "page": citation.page,
                    "chunk_id": citation.chunk_id,
                    "quote": citation.quote,
                }
                for citation in answer.citations.all()
            ],
            **answer.trace,
        },
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
