"""Knowledge bases made, renamed and removed by an admin. A knowledge base's slug is its
address: made once from its first name and kept through renames, so links stay good."""

import itertools

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from knowledge.ingest import document_delete
from knowledge.models import KnowledgeBase

SLUG_LENGTH = KnowledgeBase._meta.get_field("slug").max_length
# A name of no Latin letter or digit ("Помощь") still needs an address.
FALLBACK_SLUG = "knowledge"


class NameTaken(ValueError):
    """The workspace has a knowledge base of that name already."""


def knowledge_base_create(*, workspace_id: int, name: str) -> KnowledgeBase:
    """Raises NameTaken when the workspace already has a knowledge base so named (in any
    case); two names of one slug ("Help center", "Help-center") get -2, -3..."""
    name = name.strip()
    with transaction.atomic():
        _name_check(workspace_id=workspace_id, name=name)
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin leaves the rest usable
                return KnowledgeBase.objects.create(
                    workspace_id=workspace_id, name=name, slug=_slug_free(workspace_id, name)
                )
        except IntegrityError as taken:  # another request took the same slug meanwhile
            raise NameTaken(name) from taken


def knowledge_base_rename(*, knowledge_base: KnowledgeBase, name: str) -> KnowledgeBase:
    """The new name; the address (slug) stays."""
    name = name.strip()
    with transaction.atomic():
        _name_check(workspace_id=knowledge_base.workspace_id, name=name, not_pk=knowledge_base.pk)
        knowledge_base.name = name
        knowledge_base.save(update_fields=["name"])
    return knowledge_base


def knowledge_base_delete(*, knowledge_base: KnowledgeBase) -> int:
    """Its documents, passages and website sources go; each stored file once the deletion
    commits. The number of documents deleted."""
    with transaction.atomic():
        documents = list(knowledge_base.documents.all())
        for document in documents:
            document_delete(document=document)
        knowledge_base.delete()
    return len(documents)


def _name_check(*, workspace_id: int, name: str, not_pk: int | None = None) -> None:
    same = KnowledgeBase.objects.filter(workspace_id=workspace_id, name__iexact=name)
    if same.exclude(pk=not_pk).exists():
        raise NameTaken(name)


def _slug_free(workspace_id: int, name: str) -> str:
    stem = slugify(name)[: SLUG_LENGTH - 4].strip("-") or FALLBACK_SLUG
    taken = set(
        KnowledgeBase.objects.filter(workspace_id=workspace_id, slug__startswith=stem).values_list(
            "slug", flat=True
        )
    )
    slugs = (stem if n == 1 else f"{stem}-{n}" for n in itertools.count(1))
    return next(slug for slug in slugs if slug not in taken)
