import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from knowledge.languages import FALLBACK_CONFIG, TEXT_SEARCH_CONFIGS

EMBEDDING_DIMENSIONS = 384
# Rows written without one (before languages were detected, or by hand) were English.
DEFAULT_LANGUAGE = "en"


class KnowledgeBase(models.Model):
    # A string reference keeps `knowledge` free of imports from `assistant`.
    workspace = models.ForeignKey(
        "assistant.Workspace", on_delete=models.CASCADE, related_name="knowledge_bases"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "slug"], name="kb_slug_unique_in_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.name


def document_file_path(document: "Document", filename: str) -> str:
    """A folder of its own per stored file, so the file keeps the name it was given."""
    return f"documents/{uuid.uuid4().hex}/{filename}"


class Document(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    knowledge_base = models.ForeignKey(
        KnowledgeBase, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=500)
    # Identity within the knowledge base: the file path for folder ingests, the file
    # name for uploads. Re-ingesting the same source updates the document in place.
    source = models.CharField(max_length=1000)
    url = models.URLField(max_length=1000, blank=True)
    # The file the chunks were made from (or the first version, until it is indexed).
    file = models.FileField(upload_to=document_file_path, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # A new version waiting to be indexed: the indexed one stays searchable until it is
    # ready, and stays in use if it cannot be read.
    pending_file = models.FileField(upload_to=document_file_path, blank=True)
    pending_hash = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # How the chunks were made (knowledge.ingest.INDEX_VERSION): older ones are re-indexed.
    index_version = models.PositiveSmallIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # The date its text says it took effect (or was updated), else its file's date: of two
    # documents on the same subject, the newer one's passages are the ones answered from.
    effective_date = models.DateField(null=True, blank=True)
    # A temporary notice's period ("From 20 December to 5 January"): searched only inside it.
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    # Who set the three dates above by hand, and when: re-indexing keeps a person's dates.
    dates_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dates_set_at = models.DateTimeField(null=True, blank=True)
    # Kept, with its chunks, but never searched: an admin's way to retire a page.
    archived = models.BooleanField(default=False)
    # What its text says it replaces ("This policy replaces the one dated 1 February
    # 2024"), and the newer document that replaces this one by saying so: not searched
    # while that one is (`knowledge.supersession`).
    replaces = models.CharField(max_length=500, blank=True, default="", db_default="")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    # ISO 639-1 code of the language its text is written in (`knowledge.languages`).
    language = models.CharField(
        max_length=12, default=DEFAULT_LANGUAGE, db_default=DEFAULT_LANGUAGE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["knowledge_base", "source"], name="document_source_unique_in_kb"
            )
        ]
        indexes = [
            models.Index(fields=["knowledge_base", "content_hash"]),
            # The searched chunks per language, for each question: read from this index alone.
            models.Index(
                fields=["knowledge_base", "language"],
                include=["chunk_count"],
                name="document_language_chunks",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def file_name(self) -> str:
        """The source as staff pages show it: a folder ingest's path names the server's
        folders, which are nobody's business but the operator's."""
        return PurePosixPath(self.source).name


def _search_vector(*, config: str) -> SearchVector:
    """The heading weighs more (A) than the text (B)."""
    return SearchVector("heading", weight="A", config=config) + SearchVector(
        "text", weight="B", config=config
    )


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the document so filtered vector search needs no join.
    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=1000, blank=True)  # "Title > Section > Subsection"
    page = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    # Its readable sentences and their vectors, float16 row after row (`knowledge.sentences`).
    sentences = ArrayField(models.TextField(), default=list, db_default=[])
    sentence_embeddings = models.BinaryField(default=bytes, db_default=b"")
    # The same with the heading path in front, for the sentences that give a value (zeros
    # for the others): what "Price: $10 a day" is the price of (`knowledge.conflicts`).
    headed_sentence_embeddings = models.BinaryField(default=bytes, db_default=b"")
    # Kept out of search until an admin has looked at it (text that instructs an assistant).
    quarantined = models.BooleanField(default=False)
    quarantine_reason = models.CharField(max_length=200, blank=True)
    # Its document's language, copied so the row can build its own `search`.
    language = models.CharField(
        max_length=12, default=DEFAULT_LANGUAGE, db_default=DEFAULT_LANGUAGE
    )
    # Stemmed with its language's text-search configuration; kept in the row (storage
    # MAIN, migration 0009): the keyword leg reads it for thousands of chunks a question.
    search = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(language=language, then=_search_vector(config=config))
                for language, config in TEXT_SEARCH_CONFIGS.items()
            ),
            default=_search_vector(config=FALLBACK_CONFIG),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="chunk_position_unique")
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search"], name="chunk_search_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.document} #{self.position}"


class Lexeme(models.Model):
    """How many chunks of a knowledge base in one language hold a lexeme: the full-text
    leg's document frequencies, read instead of counted per question.

    Kept by triggers on `knowledge_chunk` (migration 0009), so every way chunks come and
    go (indexing, deleting a document or a knowledge base, COPY) keeps the counts true.
    """

    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=12)
    lexeme = models.TextField()
    chunks = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["knowledge_base", "language", "lexeme"], name="lexeme_unique_in_kb"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lexeme} ({self.language}): {self.chunks}"


class LanguageChunks(models.Model):
    """How many chunks of a knowledge base are in one language: the full-text leg's count
    of chunks for a word's IDF, read instead of summing the documents' counts per question
    (5,000 documents' rows, 3 ms, at 100k chunks).

    Kept by triggers on `knowledge_chunk` (migration 0019), as `Lexeme` is.
    """

    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=12)
    chunks = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["knowledge_base", "language"], name="language_chunks_unique_in_kb"
            )
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.chunks}"


class ChunkTerm(models.Model):
    """A searchable chunk's weight for one lexeme it holds: the full-text leg's postings.

    The weight is `ts_rank` of that lexeme alone against the chunk's `search`, which
    depends on nothing but the two, so it is computed once at indexing, not for a
    thousand candidate chunks per question; the leg then reads these narrow rows by
    index-only scans and never a chunk's row or tsvector (`knowledge.search`).

    The table is the migration's (0016): its primary key carries the weight (INCLUDE), so
    one index answers every read. Triggers on `knowledge_chunk` keep it, as they keep
    `Lexeme` (indexing, deleting, COPY, a changed language); a quarantined chunk has none.
    """

    pk = models.CompositePrimaryKey("lexeme", "chunk")
    # Cascades when a knowledge base's lexemes go; a chunk's own rows go by trigger.
    lexeme = models.ForeignKey(
        Lexeme, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    chunk = models.ForeignKey(
        Chunk, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    weight = models.FloatField()  # `real` in the table, as ts_rank gives it

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.chunk_id} {self.lexeme_id}: {self.weight}"


class Contradiction(models.Model):
    """A sentence of a passage giving a value that a sentence of another passage (or of
    the same one) gives differently (`knowledge.conflicts`), found when the later of the
    two passages was indexed. Stored both ways round: search drops the older document's
    passage whichever question retrieved it, and the Conflicts page lists the pairs,
    neither comparing passages per request. Which side is newer, and whether it may be
    answered from (archived, a notice's period, quarantine), is decided when read."""

    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="contradictions")
    sentence = models.PositiveIntegerField()  # its index in `chunk.sentences`
    value = models.CharField(max_length=200)  # as written: "14 days", "yes"
    other_chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="+")
    other_sentence = models.PositiveIntegerField()
    other_value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chunk", "sentence", "other_chunk", "other_sentence"],
                name="contradiction_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.chunk_id}:{self.sentence} {self.value} / {self.other_value}"


class OwnQuestionSet(models.Model):
    """A workspace's own questions (`knowledge.own_questions`) and their vectors, prepared
    by the worker once its knowledge base changes, so no customer's message waits for
    them to be embedded in a server process."""

    workspace = models.OneToOneField(
        "assistant.Workspace", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.CharField(max_length=100)  # of the searchable passages they were read from
    texts = ArrayField(models.TextField(), default=list)
    vectors = models.BinaryField(default=bytes)  # float32, row after row, in `texts` order
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"own questions of workspace {self.workspace_id}"


class WebsiteSource(models.Model):
    """A company's own website as a source of a knowledge base: its pages are fetched
    (`knowledge.website_sync`) and kept as documents, each citing its page's URL."""

    class Kind(models.TextChoices):
        SITEMAP = "sitemap", "Sitemap"
        CRAWL = "crawl", "Start page (follow links)"

    class Schedule(models.TextChoices):
        MANUAL = "manual", "Only when I click Sync now"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to sync"
        SYNCING = "syncing", "Syncing"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Sync failed"

    knowledge_base = models.ForeignKey(
        KnowledgeBase, on_delete=models.CASCADE, related_name="website_sources"
    )
    start_url = models.URLField(max_length=1000)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SITEMAP)
    # Path patterns, one a line (`/help/*`); no include pattern means every page of the site.
    include_patterns = models.TextField(blank=True)
    exclude_patterns = models.TextField(blank=True)
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.DAILY)
    page_cap = models.PositiveIntegerField(default=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last sync's outcome: when it ended, how, and what it did to how many pages.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_counts = models.JSONField(default=dict, blank=True)
    last_problems = models.JSONField(default=list, blank=True)  # "URL: why", the first few

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["knowledge_base", "start_url"], name="website_source_unique_in_kb"
            )
        ]

    def __str__(self) -> str:
        return self.start_url


class WebsitePage(models.Model):
    """A page of a website source and what its server said of it last time: the
    validators for a conditional GET, and the hash of the text extracted from it."""

    website_source = models.ForeignKey(
        WebsiteSource, on_delete=models.CASCADE, related_name="pages"
    )
    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="website_page")
    url = models.URLField(max_length=1000)  # as the sitemap or a link gives it
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # When a sync found it gone and archived its document: restored if it comes back.
    vanished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["website_source", "url"], name="website_page_unique_in_source"
            )
        ]

    def __str__(self) -> str:
        return self.url
