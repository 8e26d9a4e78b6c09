"""Closing a content gap: a knowledge article proposed from what the agents told those
customers, published into a knowledge base, and the gap's questions kept as test cases,
so the gap is closed and an evaluation shows if it ever opens again."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from assistant.common.audit import workspace_audit
from assistant.evaluation.cases import earlier_turns_of
from assistant.models import AuditEvent, EvalCase, GapArticle, Message, Workspace
from assistant.rails.personal_data import personal_data_redact
from knowledge.ingest import Action
from knowledge.models import KnowledgeBase
from knowledge.selectors import document_source_free
from knowledge.uploads import documents_upload

EMPTY_PROPOSAL = "Write the answer here: what customers need to know, in their words."


class ArticleRefused(Exception):
    """The knowledge base would not take the article; the message says why."""


@dataclass(frozen=True)
class ArticleProposal:
    title: str
    body: str
    replies_used: int


def article_propose(*, questions: list[Message]) -> ArticleProposal:
    """The agents' replies to these questions, personal data replaced by placeholders
    (the admin edits before publishing), under the most typical question as the title."""
    replies = []
    for question in questions:
        for reply in Message.objects.filter(
            conversation_id=question.conversation_id, role=Message.Role.AGENT, pk__gt=question.pk
        ).order_by("pk"):
            text = personal_data_redact(text=reply.text.strip()).text
            if text and text not in replies:
                replies.append(text)
    return ArticleProposal(
        title=questions[0].text.strip()[:200] if questions else "",
        body="\n\n".join(replies) or EMPTY_PROPOSAL,
        replies_used=len(replies),
    )


@dataclass(frozen=True)
class Publication:
    article: GapArticle
    name_taken: str  # the article's own file name, when another document has it


def article_publish(
    *,
    workspace: Workspace,
    knowledge_base: KnowledgeBase,
    title: str,
    body: str,
    questions: list[Message],
    as_test_cases: bool,
    actor: AbstractBaseUser,
) -> Publication:
    """The article as a Markdown document of the knowledge base (indexed by the worker),
    the questions marked answered and, if asked, saved as test cases expecting an answer
    from it. All of it, or nothing. It never replaces a document: when its name is taken,
    it gets the next free one."""
    stem = slugify(title)[:80] or "article"
    with transaction.atomic():
        # One publication at a time per knowledge base, so two cannot pick the same name.
        KnowledgeBase.objects.select_for_update().get(pk=knowledge_base.pk)
        source = document_source_free(knowledge_base=knowledge_base, stem=stem, suffix=".md")
        content = ContentFile(f"# {title}\n\n{body.strip()}\n".encode(), name=source)
        [outcome] = documents_upload(knowledge_base=knowledge_base, files=[content])
        if outcome.action != Action.ADDED:
            raise ArticleRefused(outcome.reason)
        article = GapArticle.objects.create(
            workspace=workspace, title=title, document=outcome.document, author=actor
        )
        article.questions.set(questions)
        if as_test_cases:
            EvalCase.objects.bulk_create(
                EvalCase(
                    workspace=workspace,
                    earlier_turns=earlier_turns_of(question),
                    question=question.text,
                    expected=EvalCase.Expected.ANSWER,
                    expected_documents=[source],
                )
                for question in questions
            )
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.GAP_ARTICLE,
            actor=actor,
            detail={
                "document": source,
                "knowledge_base": knowledge_base.slug,
                "questions": len(questions),
                "test_cases": len(questions) if as_test_cases else 0,
            },
        )
    return Publication(article=article, name_taken="" if source == f"{stem}.md" else f"{stem}.md")
