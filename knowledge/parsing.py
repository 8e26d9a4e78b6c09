"""Turn an uploaded file into titled sections of plain text, with heading paths and pages.

Each format is read by a well-kept library: markdown-it-py (Markdown), trafilatura (main
content of HTML pages, returned as Markdown so headings survive), chardet (encodings of
plain text) and pypdf (PDF text per page). Anything unreadable raises `UnreadableDocument`
with a reason a person can act on.

Text a web page hides from its readers (`knowledge.hidden_text`) is where instructions
aimed at an assistant are planted. It is taken out of the page and kept as sections of
its own, held with how it was hidden, so it is indexed for an admin to review but never
searched until they release it.
"""

import io
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import PurePath

import chardet
import lxml.html
import pypdf
import trafilatura
from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.dates import stated_effective_date
from knowledge.hidden_text import HiddenText, hidden_parts_removed
from knowledge.sentences import readable_lines

SUPPORTED_EXTENSIONS = (".md", ".markdown", ".html", ".htm", ".txt", ".pdf")
EMPTY_FILE = "The file is empty."


class UnreadableDocument(Exception):
    """The file cannot be turned into text; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]
    text: str
    page: int | None = None
    # Why it is kept out of search until an admin releases it ("" when it is searched):
    # readers of the original never see it, or it instructs an assistant.
    held: str = ""


HIDDEN_HEADING = "Hidden in the page"


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    sections: list[Section]
    page_count: int | None = None
    # The date the text its readers see states (`knowledge.dates`); a web page's is read
    # from the whole page, since its "Effective …" line is often outside the main content.
    effective_date: date | None = None

    @property
    def visible_text(self) -> str:
        """The text its readers see (not a web page's hidden text)."""
        return "\n".join(section.text for section in self.sections if not section.held)


def document_parse(*, filename: str, data: bytes) -> ParsedDocument:
    extension = PurePath(filename).suffix.lower()
    fallback_title = filename_title(filename)
    if not data.strip():
        raise UnreadableDocument(EMPTY_FILE)
    try:
        parsed = _parse(extension, data, fallback_title=fallback_title)
    except UnreadableDocument:
        raise
    except Exception as error:  # a parser tripping on a strange file: the file's fault, say so
        raise UnreadableDocument(f"The file could not be read ({error}).") from error
    if not any(section.text.strip() for section in parsed.sections):
        raise UnreadableDocument("No text was found in the file.")
    if parsed.effective_date:
        return parsed
    return replace(parsed, effective_date=stated_effective_date(parsed.visible_text))


def filename_title(filename: str) -> str:
    """The title of a document whose text has none: its file name, read as words."""
    return PurePath(filename).stem.replace("-", " ").replace("_", " ").strip().capitalize()


def _parse(extension: str, data: bytes, *, fallback_title: str) -> ParsedDocument:
    if extension in (".md", ".markdown"):
        return _parse_markdown(_decode_text(data), fallback_title=fallback_title)
    if extension in (".html", ".htm"):
        return _parse_html(_decode_text(data), fallback_title=fallback_title)
    if extension == ".txt":
        return _parse_plain_text(_decode_text(data), fallback_title=fallback_title)
    if extension == ".pdf":
        return _parse_pdf(data, fallback_title=fallback_title)
    raise UnreadableDocument(unsupported_type_problem(extension))


def unsupported_type_problem(extension: str) -> str:
    """Why a file of this extension cannot be read, or "" when it can."""
    if extension.lower() in SUPPORTED_EXTENSIONS:
        return ""
    return (
        f"Unsupported file type {extension or '(none)'!r}; "
        f"supported: {', '.join(SUPPORTED_EXTENSIONS)}."
    )


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    detected = chardet.detect(data)
    if not detected["encoding"] or not detected["mime_type"].startswith("text/"):
        raise UnreadableDocument(
            "The file holds binary data, not text; check that it is the file you meant to send."
        )
    text = data.decode(detected["encoding"], errors="replace")
    if "\x00" in text:
        raise UnreadableDocument("The file holds binary data, not text.")
    return text


def _parse_markdown(text: str, *, fallback_title: str) -> ParsedDocument:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    headings: list[tuple[int, str]] = []  # (level, title) of the current heading path
    sections: list[Section] = []
    blocks: list[str] = []
    title = ""

    def close_section() -> None:
        if blocks:
            path = tuple(heading for _, heading in headings)
            sections.append(Section(heading_path=path, text="\n".join(blocks)))
            blocks.clear()

    list_depth = 0
    table_row: list[str] | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            close_section()
            level = int(token.tag[1:])
            heading = _inline_text(tokens[index + 1])
            headings[:] = [(lvl, h) for lvl, h in headings if lvl < level] + [(level, heading)]
            if level == 1 and not title:
                title = heading
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "tr_open":
            table_row = []
        elif token.type == "tr_close" and table_row is not None:
            blocks.append(" | ".join(table_row))
            table_row = None
        elif token.type == "inline" and table_row is not None:
            table_row.append(_inline_text(token))
        elif token.type == "inline" and tokens[index - 1].type != "heading_open":
            prefix = "- " if list_depth else ""
            blocks.append(prefix + _inline_text(token))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip())
    close_section()
    title = title or fallback_title
    return ParsedDocument(title=title, sections=[_under_title(s, title) for s in sections])


def _inline_text(token: Token) -> str:
    """Plain text of an inline token: emphasis and link markup dropped, link text kept."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def _under_title(section: Section, title: str) -> Section:
    """Every heading path starts with the document title, so a chunk says where it is from."""
    if section.heading_path[:1] == (title,):
        return section
    return Section(
        heading_path=(title, *section.heading_path), text=section.text, page=section.page
    )


def _parse_html(html: str, *, fallback_title: str) -> ParsedDocument:
    html, hidden = hidden_parts_removed(html)
    html = _row_headers_as_cells(html)
    main_content = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_links=False,
        include_tables=True,
        include_comments=False,
    )
    if not main_content:
        raise UnreadableDocument("No readable main content was found in the HTML page.")
    metadata = trafilatura.extract_metadata(html)
    parsed = _parse_markdown(_table_headers_marked(main_content), fallback_title=fallback_title)
    page_title = metadata.title if metadata and metadata.title else ""
    if page_title and parsed.title == fallback_title:
        parsed = ParsedDocument(
            title=page_title, sections=[_under_title(s, page_title) for s in parsed.sections]
        )
    parsed = replace(parsed, effective_date=stated_effective_date(_page_text(html)))
    return replace(parsed, sections=[*parsed.sections, *_hidden_sections(hidden, parsed.title)])


def _hidden_sections(hidden: list[HiddenText], title: str) -> list[Section]:
    """A section per way of hiding, so each held passage says how its text was hidden."""
    by_how: dict[str, list[str]] = {}
    for part in hidden:
        by_how.setdefault(part.how, []).append(part.text)
    return [
        Section(
            heading_path=(title, HIDDEN_HEADING),
            text="\n\n".join(texts),
            held=f"Hidden in the page: {how}",
        )
        for how, texts in by_how.items()
    ]


def _page_text(html: str) -> str:
    """All the text a page shows, navigation and footer too, without its scripts and styles."""
    tree = lxml.html.fromstring(html)
    return " ".join(tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]"))


def _row_headers_as_cells(html: str) -> str:
    """A `<th>` that names its row ("Sunday" before the hours) is a cell, not a column name:
    trafilatura would take the row for the table's header and the other rows' values would
    be read under that row's values."""
    tree = lxml.html.fromstring(html)
    for cell in tree.iter("th"):
        if cell.getnext() is not None and cell.getnext().tag == "td":
            cell.tag = "td"
    return lxml.html.tostring(tree, encoding="unicode")


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_DELIMITER = re.compile(r"^\s*\|(?:\s*:?-+:?\s*\|)+\s*$")


def _table_headers_marked(markdown: str) -> str:
    """trafilatura writes a table without header cells (`<th>`) with no delimiter row, and
    Markdown then reads its rows as one line of pipes. A first row whose first cell is empty
    names the columns (it becomes the header); any other table gets an empty header, so no
    row of values is read as column names."""
    lines = markdown.split("\n")
    marked = []
    for index, line in enumerate(lines):
        opens_table = bool(_TABLE_ROW.match(line)) and not (
            index and _TABLE_ROW.match(lines[index - 1])
        )
        delimited = index + 1 < len(lines) and bool(_TABLE_DELIMITER.match(lines[index + 1]))
        if not opens_table or delimited:
            marked.append(line)
            continue
        cells = line.strip().strip("|").split("|")
        delimiter = "|" + "---|" * len(cells)
        if cells[0].strip():
            marked += ["|" + " |" * len(cells), delimiter, line]
        else:
            marked += [line, delimiter]
    return "\n".join(marked)


def sections_held_apart(*, sections: list[Section], held: dict[str, str]) -> list[Section]:
    """The sections without the sentences held (sentence: why), each section followed by
    its held sentences, a section per reason: the help text around an instruction stays
    searchable and quotable, the instruction waits for an admin.

    A held sentence the text does not hold word for word (a table row, which is read as
    a sentence naming its columns) holds its whole section.
    """
    result: list[Section] = []
    for section in sections:
        if section.held:
            result.append(section)
            continue
        mine = {s: why for s, why in held.items() if s in section.text}
        readable = "\n".join(readable_lines(section.text))
        rewritten = [why for s, why in held.items() if s not in mine and s in readable]
        if rewritten:
            result.append(replace(section, held=rewritten[0]))
            continue
        text = section.text
        for sentence in mine:
            text = text.replace(sentence, "")
        result.append(replace(section, text=_tidied(text)))
        for why in dict.fromkeys(mine.values()):
            sentences = [s for s, reason in mine.items() if reason == why]
            result.append(replace(section, text="\n".join(sentences), held=why))
    return [section for section in result if section.text.strip()]


def _tidied(text: str) -> str:
    """Lines left empty (or a bare list marker) by the sentences taken out are dropped."""
    lines = (re.sub(r"[ \t]{2,}", " ", line).rstrip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line.strip(" \t-*•"))


def _parse_plain_text(text: str, *, fallback_title: str) -> ParsedDocument:
    return ParsedDocument(
        title=fallback_title,
        sections=[Section(heading_path=(fallback_title,), text=_reflowed(text))],
    )


def _parse_pdf(data: bytes, *, fallback_title: str) -> ParsedDocument:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        if not encrypted:
            pages = [page.extract_text() or "" for page in reader.pages]
            metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as error:  # a damaged file can break pypdf in many ways; all mean "damaged"
        raise UnreadableDocument(f"The PDF is damaged and cannot be read ({error}).") from error
    if encrypted:
        raise UnreadableDocument("The PDF is password-protected; upload a copy without a password.")
    if not any(page.strip() for page in pages):
        raise UnreadableDocument(
            "The PDF has no text layer (it is probably scanned images); "
            "run it through OCR or upload a text version."
        )
    title = metadata_title.strip() or fallback_title
    sections = [
        Section(heading_path=(title,), text=_reflowed(page_text), page=number)
        for number, page_text in enumerate(pages, start=1)
        if page_text.strip()
    ]
    return ParsedDocument(title=title, sections=sections, page_count=len(pages))


def _reflowed(page_text: str) -> str:
    """Joins the lines a PDF or a plain-text file wrapped mid-sentence, so a line break
    means a new sentence.

    A line that continues in lower case after a line without closing punctuation is the
    same sentence, however far it is indented (a wrapped list item); the chunker, and the
    extractive answerer, split sentences at breaks, so a quote never starts mid-sentence.
    """
    return re.sub(r"(?<![.!?:;])[ \t]*\n[ \t]*(?=[a-z(])", " ", page_text)
