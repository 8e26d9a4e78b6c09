"""A document as readers see it again: its chunks in order, without the overlap.

Consecutive chunks of a section repeat a sentence or two (see `knowledge.chunking`), so
each chunk is shown from where the previous one stopped.
"""

from dataclasses import dataclass

from knowledge.models import Chunk, Document


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    heading: str
    page: int | None
    text: str
    highlighted: bool


def document_passages(*, document: Document, highlight_chunk_id: int | None) -> list[Passage]:
    passages: list[Passage] = []
    previous: Chunk | None = None
    for chunk in Chunk.objects.filter(document=document).order_by("position"):
        text = chunk.text
        if previous is not None and previous.heading == chunk.heading:
            text = text[_overlap_length(previous.text, text) :].lstrip()
        passages.append(
            Passage(
                chunk_id=chunk.pk,
                heading=chunk.heading
                if previous is None or previous.heading != chunk.heading
                else "",
                page=chunk.page,
                text=text,
                highlighted=chunk.pk == highlight_chunk_id,
            )
        )
        previous = chunk
    return passages


def _overlap_length(earlier: str, later: str) -> int:
    """The length of the longest start of `later` that ends `earlier`."""
    for length in range(min(len(earlier), len(later)), 0, -1):
        if earlier.endswith(later[:length]):
            return length
    return 0
