"""A page that says it replaces an older one ("This policy replaces the returns policy
dated 1 February 2024", "It supersedes our Returns Policy (2024)", "This page replaces
the version of March 2023") supersedes that document of its knowledge base: the older
one is not searched while the newer one is (search reads `Document.superseded_by`), as if
archived, but derived, shown on both documents' pages and on the Conflicts page, and
undone when the newer page goes (deleted: the link is cleared; archived or outside its
period: search stops honouring it) or stops saying so (re-indexed, matched again).

Deterministic, from the statement (`knowledge.dates.stated_replacement`) and the other
documents' titles and effective dates. An older document (dated before the newer one,
when both are dated) is the one replaced when
- the statement's date is its effective date, as precisely as written (the day, the
  month or the year), and its title shares a word with the words naming it (or, when
  the statement names it by its date alone, "the version of March 2023", with the newer
  document's own title); or
- the statement gives no date, and every word of its title (two at least) is among the
  words naming it ("supersedes our Returns Policy").
Anything vaguer (no date and a weak title overlap) replaces nothing.
"""

import re
from collections.abc import Iterable
from datetime import date

from django.db.models import Q

from knowledge.dates import Replacement, stated_replacement
from knowledge.models import Document, KnowledgeBase

# Words that say which document without naming its subject.
_NAMING_WORDS = frozenset(
    [
        "the",
        "our",
        "your",
        "its",
        "this",
        "that",
        "these",
        "dated",
        "from",
        "version",
        "versions",
        "edition",
        "page",
        "pages",
        "document",
        "documents",
        "article",
        "previous",
        "earlier",
        "older",
        "old",
        "former",
        "all",
        "any",
        "and",
        "of",
    ]
)
_WORD = re.compile(r"[^\W\d_]{3,}")
# A title named without a date must be named whole, and say more than one word.
WHOLE_TITLE_WORDS = 2


def documents_supersede(*, knowledge_base: KnowledgeBase) -> None:
    """Record, for each document of the knowledge base, the newer document that says it
    replaces it (or none), in the caller's transaction."""
    in_knowledge_base = Document.objects.filter(knowledge_base=knowledge_base)
    if not in_knowledge_base.filter(Q(superseded_by__isnull=False) | ~Q(replaces="")).exists():
        return  # most help centers: no page says it replaces another, none was replaced
    documents = list(
        in_knowledge_base.filter(status=Document.Status.READY).only(
            "pk", "title", "effective_date", "replaces", "superseded_by"
        )
    )
    superseded_by: dict[int, Document] = {}
    for newer in sorted(documents, key=_date_order):  # the latest claim wins a tie
        replacement = stated_replacement(newer.replaces) if newer.replaces else None
        if replacement is None:
            continue
        for older in _replaced(replacement, newer=newer, documents=documents):
            superseded_by[older.pk] = newer
    changed = []
    for document in documents:
        newer = superseded_by.get(document.pk)
        if document.superseded_by_id != (newer and newer.pk):
            document.superseded_by = newer
            changed.append(document)
    Document.objects.bulk_update(changed, fields=["superseded_by"])


def _date_order(document: Document) -> tuple:
    return (document.effective_date is not None, document.effective_date, document.pk)


def _replaced(
    replacement: Replacement, *, newer: Document, documents: Iterable[Document]
) -> list[Document]:
    named = _words(replacement.named)
    return [
        older
        for older in documents
        if older.pk != newer.pk
        and not _dated_after(older, newer)
        and _named(replacement, named=named, older=older, newer=newer)
    ]


def _dated_after(older: Document, newer: Document) -> bool:
    """A page cannot replace one dated on or after its own date."""
    return bool(older.effective_date and newer.effective_date) and (
        older.effective_date >= newer.effective_date
    )


def _named(replacement: Replacement, *, named: set[str], older: Document, newer: Document) -> bool:
    title = _words(older.title)
    if replacement.dates_match(older.effective_date):
        return bool(title & (named or _words(newer.title)))
    if replacement.named_date:  # a date that is not this document's
        return False
    return len(title) >= WHOLE_TITLE_WORDS and title <= named


def _words(text: str) -> set[str]:
    return {word for word in map(str.lower, _WORD.findall(text)) if word not in _NAMING_WORDS}


def knowledge_base_superseded(*, knowledge_base: KnowledgeBase, today: date) -> list[Document]:
    """The documents not searched on `today` because a searchable newer one replaces them."""
    return list(
        Document.objects.filter(
            knowledge_base=knowledge_base,
            superseded_by__archived=False,
        )
        .filter(Q(superseded_by__valid_from__isnull=True) | Q(superseded_by__valid_from__lte=today))
        .filter(
            Q(superseded_by__valid_until__isnull=True) | Q(superseded_by__valid_until__gte=today)
        )
        .select_related("superseded_by")
        .order_by("title", "pk")
    )
