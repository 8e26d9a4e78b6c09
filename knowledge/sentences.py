"""A chunk's sentences as its readers read them, each embedded when the chunk is indexed.

The extractive answerer quotes these sentences and the grounding rail holds generated ones
against them. Embedding them once at indexing, not on every answer, takes 200-600 ms off
the first answer from a passage on a 2-core VM (`make bench`, answers), in every process
and after every restart. A bullet loses its marker and a table row becomes a sentence
naming its columns, so a quote reads as a sentence; a FAQ's "Q:"/"A:" labels are dropped,
and a list item remembers the line that introduces its list. Vectors are kept as float16: the
similarities the rails compare move by less than 0.001, in half the space.
"""

import re
from dataclasses import dataclass

import numpy as np
from sentencex import segment

from knowledge.embeddings import texts_embed_cached
from knowledge.models import EMBEDDING_DIMENSIONS

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_FAQ_LABEL = re.compile(r"^\s*(?:Q|A|Question|Answer)\s*[:.]\s+", re.IGNORECASE)
# A table row's cells, as the parser joins them; an empty first cell leaves a leading pipe.
_CELL_BORDER = re.compile(r"(?:^|\s+)\|(?:\s+|$)")
_STORED_TYPE = np.float16
_CUSTOMER_VOICE = re.compile(r"(?:I|I'm|I've|I'd|My)\b")


@dataclass(frozen=True, eq=False)
class Sentences:
    texts: list[str]
    vectors: np.ndarray  # one normalised float32 row per text

    @classmethod
    def unpacked(cls, *, texts: list[str], packed: bytes) -> "Sentences":
        vectors = np.frombuffer(packed, dtype=_STORED_TYPE).reshape(-1, EMBEDDING_DIMENSIONS)
        return cls(texts=texts, vectors=vectors.astype(np.float32))

    @classmethod
    def embedded(cls, *, texts: list[str]) -> "Sentences":
        """For a chunk indexed before its sentences were stored (index version 4)."""
        return cls(texts=texts, vectors=texts_embed_cached(texts))


def vectors_packed(vectors: np.ndarray) -> bytes:
    return vectors.astype(_STORED_TYPE).tobytes()


@dataclass(frozen=True)
class TableRow:
    table: int  # the line number of its table's first row: rows of one table share it
    name: str  # its first cell, which names the row ("10-200 lines", "Bikes")


@dataclass(frozen=True)
class _Line:
    text: str
    lead_in: str | None = None  # a list item's: the line that introduces its list
    row: TableRow | None = None  # a table row's: which row of which table
    item: bool = False  # a list item


def readable_lines(text: str) -> list[str]:
    """The chunk's lines as sentences a reader could be quoted: no bullets, no FAQ labels,
    and each table row naming its columns ("Bikes — Shipping cost: CA$89; Carrier: courier.")."""
    return [line.text for line in _readable(text)]


def chunk_sentences(text: str) -> list[str]:
    return [sentence for line in readable_lines(text) for sentence in _segmented(line)]


def sentence_lead_ins(text: str) -> dict[str, str]:
    """Each list item's sentence and the line that introduces its list ("You can pay:"),
    so an answer quoting the item can say what it is an item of."""
    return {
        sentence: line.lead_in
        for line in _readable(text)
        if line.lead_in
        for sentence in _segmented(line.text)
    }


def sentence_item_openings(text: str) -> dict[str, str]:
    """Each list item's later sentence and the item's first ("Suspension: if a bill is
    unpaid 30 days after the due date, service is suspended." before "Service comes back
    within 2 hours…"): what the later one says holds under what the first one names."""
    return {
        sentence: sentences[0]
        for line in _readable(text)
        if line.item
        for sentences in [_segmented(line.text)]
        for sentence in sentences[1:]
    }


def sentence_table_rows(text: str) -> dict[str, TableRow]:
    """Each table row's sentence and the row it reads, so an answer can pick, of a table's
    rows, the one a question names ("12 lines" is the row "10-200 lines", not "2-4")."""
    return {
        sentence: line.row
        for line in _readable(text)
        if line.row
        for sentence in _segmented(line.text)
    }


def sentences_asking(text: str) -> set[str]:
    """The questions a page asks itself, each with the sentence in the customer's voice
    leading up to it ("I got it on 2 May and it's now 30 May. Am I still in time?"): a
    FAQ's question, which an answer must not quote as if it were the answer."""
    asking: set[str] = set()
    for line in readable_lines(text):
        sentences = _segmented(line)
        for index, sentence in enumerate(sentences):
            if not sentence.endswith("?"):
                continue
            asking.add(sentence)
            if index and _CUSTOMER_VOICE.match(sentences[index - 1]):
                asking.add(sentences[index - 1])
    return asking


def sentence_lists(text: str) -> dict[str, int]:
    """Each list item's sentence and the line number where its list starts, so an answer
    can quote the other steps of a procedure it quotes one step of."""
    lists: dict[str, int] = {}
    start: int | None = None
    for number, line in enumerate(text.splitlines()):
        if not _BULLET.match(line):
            start = None
            continue
        start = number if start is None else start
        for sentence in _segmented(_BULLET.sub("", line)):
            lists.setdefault(sentence, start)
    return lists


def table_headers(text: str) -> dict[str, str]:
    """Each table row's line and the first line of its table, which names the columns, so
    a chunk that starts inside a table can open with that line and its rows still read
    "Route 17 — Price: $27", not the first carried row taken for the columns' names."""
    headers: dict[str, str] = {}
    header: str | None = None
    for line in text.splitlines():
        if len(_cells(line)) < 2:
            header = None
        elif header is None:
            header = line
        else:
            headers.setdefault(line.strip(), header)
    return headers


def _readable(text: str) -> list[_Line]:
    lines: list[_Line] = []
    header: list[str] | None = None
    table = 0
    lead_in: str | None = None  # before a list, the line's sentence that ends with a colon
    for number, raw in enumerate(text.splitlines()):
        line = _FAQ_LABEL.sub("", raw)
        cells = _cells(line)
        if len(cells) > 1 and header is None:  # a table's first row names its columns
            header, table = cells, number
        elif len(cells) > 1:
            row = TableRow(table=table, name=cells[0])
            lines.append(_Line(text=_table_row(cells, header=header), row=row))
        elif _BULLET.match(line):
            header = None
            lines.append(_Line(text=_BULLET.sub("", line), lead_in=lead_in, item=True))
        else:
            header = None
            # its last sentence: "It contains:" after what the paragraph says first
            lead_in = _segmented(line)[-1] if line.rstrip().endswith(":") else None
            lines.append(_Line(text=line))
    return lines


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in _CELL_BORDER.split(line.strip())]


def _segmented(line: str) -> list[str]:
    return [sentence for raw in segment("en", line) if (sentence := raw.strip())]


def _table_row(cells: list[str], *, header: list[str]) -> str:
    named = [
        f"{name}: {value}" if name else value
        for name, value in zip(header[1:], cells[1:], strict=False)
        if value
    ]
    return f"{cells[0]} — {'; '.join(named)}."
