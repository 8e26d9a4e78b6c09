"""What the knowledge side announces, for the assistant side to act on without an import.

`chunks_stored(document, chunks)`: sent inside the transaction that stores a document's new
chunks (with their embeddings), so a receiver can quarantine some before they are
searchable.
"""

from django.dispatch import Signal

chunks_stored = Signal()
