"""What the knowledge side announces, for the assistant side to act on without an import.

`chunks_stored(document, chunks)`: sent inside the transaction that stores a document's new
chunks (with their embeddings), so a receiver can quarantine some before they are
searchable.

`sentences_screen(sentences, vectors)`: sent while a document is prepared for indexing,
outside any transaction, with its passages' sentences and their vectors; a receiver
returns, for each sentence, why it must be held out of search ("" for none). Indexing
then holds those sentences apart from the help text around them.

`website_source_added(source, actor)`, `website_source_removed(source, actor)` and
`website_source_synced(source, actor)`: sent inside the transaction that records the
change (a sync: its outcome, on `source`), for the audit; `actor` is None for a
scheduled sync.
"""

from django.dispatch import Signal

chunks_stored = Signal()
sentences_screen = Signal()
website_source_added = Signal()
website_source_removed = Signal()
website_source_synced = Signal()
