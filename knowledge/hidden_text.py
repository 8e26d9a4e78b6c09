"""Text a web page hides from its readers, and how it hides it.

Hidden text is where instructions aimed at an assistant are planted: readers never see
them, so nobody at the company notices. A page hides text with attributes (`hidden`,
`aria-hidden="true"`), comments, or styles: `display: none`, `visibility: hidden`,
`opacity: 0`, a near-zero font size, text coloured like its background, or a box moved off
the screen or clipped to nothing. Styles are read from inline `style` attributes and from
`<style>` rules with simple class and id selectors, by tinycss2 (declarations and colours);
no full CSS engine, so a page styled only from outside is judged by what it says inline.

Screen-reader-only text (classes such as `sr-only`, `visually-hidden`) is clipped off the
screen too, but on purpose: people using a screen reader read it. It stays searchable,
and its sentences are screened for instructions like any other (`assistant.rails.
document_instructions`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
import tinycss2
import tinycss2.color3
from lxml import etree

MIN_HIDDEN_WORDS = 3  # shorter hidden bits ("Close", "Menu") say nothing to anyone
SCREEN_READER_CLASSES = frozenset(
    {"sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "screenreader-only"}
)
# At or below these sizes no reader can read the text.
NEAR_ZERO_FONT = {"px": 2.0, "pt": 1.5, "em": 0.2, "rem": 0.2, "%": 20.0}
PIXELS = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0}
OFF_SCREEN_PX = -500.0
# WCAG contrast ratio between text and its background: 1 is the same colour, body text
# needs 4.5; below this the text is invisible on purpose, not merely pale.
MIN_CONTRAST = 1.3
WHITE = (1.0, 1.0, 1.0)
_SIMPLE_SELECTOR = re.compile(r"^[a-z0-9]*([.#][\w-]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class HiddenText:
    how: str  # "display:none", "text coloured like its background"
    text: str


@dataclass(frozen=True)
class _Styles:
    rules: dict[str, dict[str, str]]  # ".class" or "#id": its declarations
    page_background_known: bool  # no stylesheet Keel cannot read may set a background


def hidden_parts_removed(html: str) -> tuple[str, list[HiddenText]]:
    """The page without what its body hides from readers, and the hidden texts."""
    tree = lxml.html.fromstring(html)
    styles = _page_styles(tree)
    body = tree.find(".//body")
    body = tree if body is None else body
    hidden: list[HiddenText] = []
    for comment in list(body.iter(etree.Comment)):
        _take_out(comment, how="an HTML comment", text=comment.text, into=hidden)
    background = WHITE if styles.page_background_known else None
    _visit(body, styles=styles, background=background, color=None, into=hidden)
    return lxml.html.tostring(tree, encoding="unicode"), hidden


def _take_out(node, *, how: str, text: str | None, into: list[HiddenText]) -> None:
    if len((text or "").split()) >= MIN_HIDDEN_WORDS:
        into.append(HiddenText(how=how, text=" ".join(text.split())))
    node.drop_tree()


def _visit(element, *, styles: _Styles, background, color, into: list[HiddenText]) -> None:
    declarations = _declarations(element, styles=styles)
    background = _background(element, declarations) or background
    color = _color(declarations.get("color", "")) or color
    how = _how_hidden(element, declarations) or _hidden_by_colour(
        element, background=background, color=color
    )
    if how:
        _take_out(element, how=how, text=element.text_content(), into=into)
        return
    for child in list(element):
        if isinstance(child.tag, str):
            _visit(child, styles=styles, background=background, color=color, into=into)


def _page_styles(tree) -> _Styles:
    rules: dict[str, dict[str, str]] = {}
    background_known = not tree.xpath("//link[contains(@rel, 'stylesheet')]")
    for style in tree.iter("style"):
        for rule in tinycss2.parse_stylesheet(style.text or "", True, True):
            if rule.type != "qualified-rule":
                continue
            declarations = _parsed_declarations(tinycss2.serialize(rule.content))
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            simple = [_SIMPLE_SELECTOR.match(selector) for selector in selectors]
            for match in filter(None, simple):
                rules.setdefault(match.group(1).lower(), {}).update(declarations)
            if not all(simple) and declarations.keys() & {"background", "background-color"}:
                background_known = False  # "body > main" may paint the page dark
    return _Styles(rules=rules, page_background_known=background_known)


def _declarations(element, *, styles: _Styles) -> dict[str, str]:
    """Its declarations from `<style>` rules (classes, then id) and its `style`, which wins."""
    declarations: dict[str, str] = {}
    keys = [f".{name.lower()}" for name in (element.get("class") or "").split()]
    if element.get("id"):
        keys.append(f"#{element.get('id').lower()}")
    for key in keys:
        declarations.update(styles.rules.get(key, {}))
    declarations.update(_parsed_declarations(element.get("style") or ""))
    return declarations


def _parsed_declarations(css: str) -> dict[str, str]:
    return {
        declaration.lower_name: tinycss2.serialize(declaration.value).strip().lower()
        for declaration in tinycss2.parse_blocks_contents(css, True, True)
        if declaration.type == "declaration"
    }


def _how_hidden(element, declarations: dict[str, str]) -> str:
    if element.get("hidden") is not None:
        return "the hidden attribute"
    if (element.get("aria-hidden") or "").lower() == "true":
        return 'aria-hidden="true"'
    if declarations.get("display") == "none":
        return "display:none"
    if declarations.get("visibility") in ("hidden", "collapse"):
        return "visibility:hidden"
    if _number(declarations.get("opacity", "")) == 0:
        return "opacity:0"
    if _near_zero_font(declarations.get("font-size", "")):
        return f"font-size:{declarations['font-size']}"
    screen_reader = SCREEN_READER_CLASSES & set((element.get("class") or "").lower().split())
    if not screen_reader:
        return _off_screen(declarations)
    return ""


def _off_screen(declarations: dict[str, str]) -> str:
    if _pixels(declarations.get("text-indent", "")) <= OFF_SCREEN_PX:
        return "moved off the screen (text-indent)"
    if declarations.get("position") in ("absolute", "fixed"):
        for side in ("left", "top"):
            if _pixels(declarations.get(side, "")) <= OFF_SCREEN_PX:
                return f"moved off the screen ({side})"
    sizes = (declarations.get("width", ""), declarations.get("height", ""))
    tiny = any(_pixels(size, unknown=99.0) <= 1 for size in sizes)
    clipped = re.fullmatch(r"rect\(\s*0\D*0\D*0\D*0\D*\)", declarations.get("clip", "")) or (
        declarations.get("clip-path", "").replace(" ", "") == "inset(50%)"
    )
    if clipped and tiny:
        return "clipped to nothing"
    if tiny and declarations.get("overflow") == "hidden":
        return "a box of no size"
    return ""


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _dimension(value: str) -> tuple[float, str] | None:
    tokens = [t for t in tinycss2.parse_component_value_list(value) if t.type != "whitespace"]
    if len(tokens) != 1:
        return None
    [token] = tokens
    if token.type == "dimension":
        return token.value, token.lower_unit
    if token.type == "percentage":
        return token.value, "%"
    if token.type == "number" and token.value == 0:
        return 0.0, "px"
    return None


def _near_zero_font(value: str) -> bool:
    dimension = _dimension(value)
    if dimension is None:
        return False
    size, unit = dimension
    return unit in NEAR_ZERO_FONT and size <= NEAR_ZERO_FONT[unit]


def _pixels(value: str, *, unknown: float = 0.0) -> float:
    dimension = _dimension(value)
    if dimension is None or dimension[1] not in PIXELS:
        return unknown
    return dimension[0] * PIXELS[dimension[1]]


def _colours(value: str) -> Iterator[tinycss2.color3.RGBA]:
    for token in tinycss2.parse_component_value_list(value):
        parsed = tinycss2.color3.parse_color(token)
        if isinstance(parsed, tinycss2.color3.RGBA):
            yield parsed


def _color(value: str) -> tinycss2.color3.RGBA | None:
    return next(_colours(value), None)


def _background(element, declarations: dict[str, str]) -> tuple[float, float, float] | None:
    """The colour its box paints, when it paints one (a transparent one paints nothing)."""
    value = declarations.get("background-color") or declarations.get("background") or ""
    painted = next((c for c in _colours(value) if c.alpha > 0), None)
    if painted is None and element.get("bgcolor"):
        painted = _color(element.get("bgcolor"))
    return (painted.red, painted.green, painted.blue) if painted else None


def _hidden_by_colour(element, *, background, color) -> str:
    """Its own text (not only its children's) drawn in a colour readers cannot tell apart."""
    own_text = (element.text or "") + "".join(child.tail or "" for child in element)
    if color is None or not own_text.strip():
        return ""
    if color.alpha <= 0.05:
        return "transparent text"
    if background is not None and _contrast((color.red, color.green, color.blue), background) < (
        MIN_CONTRAST
    ):
        return "text coloured like its background"
    return ""


def _contrast(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
