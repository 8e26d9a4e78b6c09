"""An admin's changes to a knowledge base's documents, each audited in the transaction
that makes it: upload (a new document, or a new version replacing one), delete, archive
and restore, and the dates set by hand or left to the text again. `knowledge` does the
work; it knows nothing of audits, so they are recorded here."""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent
from knowledge.ingest import (
    Action,
    IngestOutcome,
    document_archive,
    document_dates_set,
    document_delete,
)
from knowledge.models import Document, KnowledgeBase
from knowledge.uploads import document_dates_forget, documents_upload

UPLOAD_ACTIONS = {Action.ADDED: "upload", Action.UPDATED: "replace"}


def document_upload(
    *, knowledge_base: KnowledgeBase, files: Iterable[File], actor: AbstractBaseUser
) -> list[IngestOutcome]:
    """Each file stored and queued for indexing, and audited if stored, one at a time: a
    file that fails leaves the others stored."""
    outcomes = []
    for content in files:
        with transaction.atomic():
            [outcome] = documents_upload(knowledge_base=knowledge_base, files=[content])
            if outcome.action in UPLOAD_ACTIONS:
                _document_audit(
                    document=outcome.document, action=UPLOAD_ACTIONS[outcome.action], actor=actor
                )
        outcomes.append(outcome)
    return outcomes


def document_remove(*, document: Document, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        _document_audit(document=document, action="delete", actor=actor)
        document_delete(document=document)


def document_archive_set(*, document: Document, archived: bool, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        document_archive(document=document, archived=archived)
        _document_audit(document=document, action="archive" if archived else "restore", actor=actor)


def document_dates_edit(
    *, document: Document, actor: AbstractBaseUser, **dates: date | None
) -> Document:
    """`dates`: effective_date, valid_from and valid_until, as `document_dates_set` takes."""
    with transaction.atomic():
        document_dates_set(document=document, actor=actor, **dates)
        _document_audit(
            document=document,
            action="dates",
            actor=actor,
            dates={name: day.isoformat() if day else None for name, day in dates.items()},
        )
    return document


def document_dates_reset(*, document: Document, actor: AbstractBaseUser) -> None:
    """Back to the dates the document's text states."""
    with transaction.atomic():
        document_dates_forget(document=document)
        _document_audit(document=document, action="dates_from_text", actor=actor)


def _document_audit(*, document: Document, action: str, actor: AbstractBaseUser, **more) -> None:
    workspace_audit(
        workspace_id=document.knowledge_base.workspace_id,
        kind=AuditEvent.Kind.DOCUMENT,
        actor=actor,
        detail={
            "action": action,
            "document": document.pk,
            "source": document.file_name,  # a folder ingest's path is the operator's business
            "knowledge_base": document.knowledge_base.slug,
            **more,
        },
    )
