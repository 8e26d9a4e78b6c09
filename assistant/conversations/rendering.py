"""An answer's text as safe HTML: a small Markdown subset, with citation markers as links.

Whatever a model or a document put in the text, raw HTML is never passed through:
markdown-it renders with HTML disabled, then nh3 keeps only the tags below.
"""

import re
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "a", "blockquote"}
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
_MARKER = re.compile(r"\[(\d{1,3})\]")


def answer_html(*, text: str, citation_urls: Mapping[int, str]) -> str:
    """`citation_urls` maps each marker number to the page that shows its source."""
    html = nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

    def citation_link(match: re.Match) -> str:
        number = int(match.group(1))
        if number not in citation_urls:
            return ""
        return (
            f'<a class="cite" href="{citation_urls[number]}" target="_blank" '
            f'rel="noopener" aria-label="Source {number}">{number}</a>'
        )

    return _MARKER.sub(citation_link, html)
