"""Split parsed sections into retrieval chunks that respect the document's structure.

A chunk never crosses a heading or a PDF page (its heading path and page are exact), never
ends mid-sentence (sentencex finds the boundaries), and fits the embedding model's input
window of 256 word pieces (about 190 words), heading path included, so nothing a chunk
says is invisible to its vector. Consecutive chunks of a section overlap by a sentence
or two, so a fact split across the boundary is still found whole; a chunk that starts
inside a table opens with the table's header line, so its rows still name their columns.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sentencex import segment

from knowledge.embeddings import max_input_tokens, token_count
from knowledge.parsing import Section
from knowledge.sentences import chunk_sentences, table_headers

HEADING_SEPARATOR = " > "
OVERLAP_TOKENS = 40


@dataclass(frozen=True)
class ChunkDraft:
    heading: str
    page: int | None
    text: str
    token_count: int
    sentences: list[str]  # its readable sentences, embedded beside it (`knowledge.sentences`)
    held: str = ""  # why it is kept out of search (`Section.held`)

    @property
    def embedding_input(self) -> str:
        return f"{self.heading}\n{self.text}"


def sections_chunk(*, sections: list[Section], language: str = "en") -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    for section in sections:
        heading = HEADING_SEPARATOR.join(section.heading_path)
        headers = table_headers(section.text)
        # Room for a table's header line, repeated when a chunk starts inside its table.
        header_room = max(map(token_count, set(headers.values())), default=0)
        budget = max_input_tokens() - token_count(heading) - 2 - header_room  # [CLS], [SEP]
        sentences = list(_sentences(section.text, language=language, budget=budget))
        for sentence_group in _pack(sentences, budget=budget):
            text = "".join(sentence for sentence, _ in sentence_group).strip()
            tokens = sum(tokens for _, tokens in sentence_group)
            header = headers.get(text.split("\n", 1)[0])
            if header:
                text, tokens = f"{header}\n{text}", tokens + token_count(header)
            drafts.append(
                ChunkDraft(
                    heading=heading,
                    page=section.page,
                    text=text,
                    token_count=tokens,
                    sentences=chunk_sentences(text),
                    held=section.held,
                )
            )
    return drafts


def _sentences(text: str, *, language: str, budget: int) -> Iterator[tuple[str, int]]:
    """Sentences with their token counts, each ending in the space or line break after it.

    A line break (list item, table row) always ends a sentence and is kept in the text.
    """
    for line in text.splitlines():
        units: list[tuple[str, int]] = []
        for raw in segment(language, line):
            sentence = raw.strip()
            if not sentence:
                continue
            tokens = token_count(sentence)
            if tokens <= budget:
                units.append((sentence, tokens))
            else:
                units.extend(_split_overlong(sentence, budget=budget))
        for index, (sentence, tokens) in enumerate(units):
            yield sentence + ("\n" if index == len(units) - 1 else " "), tokens


def _split_overlong(sentence: str, *, budget: int) -> Iterator[tuple[str, int]]:
    """A "sentence" longer than the window (a huge table row, text without punctuation)."""
    piece: list[str] = []
    for word in sentence.split():
        candidate = " ".join([*piece, word])
        if piece and token_count(candidate) > budget:
            text = " ".join(piece)
            yield text, token_count(text)
            piece = [word]
        else:
            piece.append(word)
    if piece:
        text = " ".join(piece)
        yield text, token_count(text)


def _pack(sentences: list[tuple[str, int]], *, budget: int) -> Iterator[list[tuple[str, int]]]:
    group: list[tuple[str, int]] = []
    used = 0
    fresh = 0  # sentences in the group that no earlier chunk carried
    for sentence, tokens in sentences:
        if group and used + tokens > budget:
            yield group
            group = _overlap(group, room=budget - tokens)
            used = sum(t for _, t in group)
            fresh = 0
        group.append((sentence, tokens))
        used += tokens
        fresh += 1
    if group and fresh:
        yield group


def _overlap(group: list[tuple[str, int]], *, room: int) -> list[tuple[str, int]]:
    """The last sentences of a chunk, up to OVERLAP_TOKENS, to open the next one."""
    carried: list[tuple[str, int]] = []
    used = 0
    for sentence, tokens in reversed(group):
        if used + tokens > min(OVERLAP_TOKENS, room):
            break
        carried.insert(0, (sentence, tokens))
        used += tokens
    return carried
