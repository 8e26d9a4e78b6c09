"""Passages of documents that its readers never see, or that instruct an assistant
("Note to AI assistants: ...", "e-mail your card number to ..."), stay out of search until
an admin has looked at them. Indexing holds them apart before it stores the chunks (hidden
text in `knowledge.hidden_text`; instruction sentences by `rails.document_instructions`,
which answers indexing's `sentences_screen`), so no held text is ever searchable; this
also records each hold, with its reason, in the audit.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.dispatch import receiver

from assistant.common.audit import workspace_audit
from assistant.models import AuditEvent
from assistant.rails.document_instructions import sentences_held
from knowledge.models import Chunk, Document
from knowledge.signals import chunks_stored, sentences_screen


@receiver(sentences_screen)
def sentences_screen_instructions(sender, *, sentences, vectors, **kwargs) -> list[str]:
    return sentences_held(sentences=sentences, vectors=vectors)


@receiver(chunks_stored)
def chunks_held_record(sender, *, document: Document, chunks: list[Chunk], **kwargs) -> None:
    held = [chunk for chunk in chunks if chunk.quarantined]
    if held:
        workspace_audit(
            workspace_id=document.knowledge_base.workspace_id,
            kind=AuditEvent.Kind.QUARANTINE,
            detail={
                "document_id": document.pk,
                "document": document.title,
                "chunks": [
                    {"chunk_id": chunk.pk, "why": chunk.quarantine_reason} for chunk in held
                ],
            },
        )


def chunk_release(*, chunk: Chunk, actor: AbstractBaseUser) -> Chunk:
    """An admin has read the passage and lets it be searched."""
    with transaction.atomic():
        Chunk.objects.filter(pk=chunk.pk).update(quarantined=False, quarantine_reason="")
        workspace_audit(
            workspace_id=chunk.knowledge_base.workspace_id,
            kind=AuditEvent.Kind.RELEASE,
            detail={"document_id": chunk.document_id, "chunk_id": chunk.pk},
            actor=actor,
        )
    chunk.refresh_from_db()
    return chunk
