"""What a person reads of an HTML fragment Keel sends (a socket frame, a page): tags
dropped, entities decoded, spaces collapsed. The bench reads the widget's notices with it,
the tests the frames and pages they check."""

import html
import re


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()
