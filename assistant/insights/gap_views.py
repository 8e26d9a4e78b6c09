"""Content gaps for admins: what customers asked that the knowledge base did not serve,
grouped by meaning; from a group, an article that closes it."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from assistant.common.access import admin_required
from assistant.insights.forms import GapArticleForm, GapFilterForm
from assistant.insights.gap_articles import ArticleRefused, article_propose, article_publish
from assistant.insights.gaps import (
    REASON_LABELS,
    customer_questions,
    gap_clusters,
    gap_questions,
)

QUESTIONS_PER_ARTICLE = 50  # a group's most typical; they travel in the link


@require_GET
@admin_required
def gaps_page(request):
    form = GapFilterForm(request.GET or {"days": GapFilterForm.base_fields["days"].initial})
    days = form.cleaned_data["days"] if form.is_valid() else 30
    questions = gap_questions(
        workspace_id=request.workspace.pk, since=timezone.now() - timedelta(days=days)
    )
    return render(
        request,
        "gaps/page.html",
        {
            "form": form,
            "clusters": gap_clusters(questions=questions),
            "question_count": len(questions),
            "reason_labels": REASON_LABELS,
            "questions_per_article": QUESTIONS_PER_ARTICLE,
        },
    )


@require_GET
@admin_required
def article_page(request):
    ids = [value for value in request.GET.getlist("questions") if value.isdigit()]
    questions = list(
        customer_questions(workspace_id=request.workspace.pk).filter(
            pk__in=ids[:QUESTIONS_PER_ARTICLE]
        )
    )
    if not questions:
        raise Http404("No such questions in this workspace.")
    proposal = article_propose(questions=questions)
    form = _article_form(
        request, initial={"title": proposal.title, "body": proposal.body, "questions": questions}
    )
    return render(request, "gaps/article.html", {"form": form, "proposal": proposal})


@require_POST
@admin_required
def article_publish_request(request):
    form = _article_form(request, data=request.POST)
    if form.is_valid():
        try:
            publication = article_publish(
                workspace=request.workspace,
                knowledge_base=form.cleaned_data["knowledge_base"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                questions=list(form.cleaned_data["questions"]),
                as_test_cases=form.cleaned_data["as_test_cases"],
                actor=request.user,
            )
        except ArticleRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            article, taken = publication.article, publication.name_taken
            renamed = f" ({taken} is another document)" if taken else ""
            messages.success(
                request,
                f"“{article.title}” is published as {article.document.source}{renamed}: it "
                "answers customers once indexed, in a moment.",
            )
            return redirect("gaps", request.workspace.slug)
    return render(request, "gaps/article.html", {"form": form}, status=400)


def _article_form(request, **kwargs) -> GapArticleForm:
    return GapArticleForm(
        workspace=request.workspace,
        questions=customer_questions(workspace_id=request.workspace.pk),
        **kwargs,
    )
