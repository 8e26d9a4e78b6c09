"""Citation markers: `[n]` in an answer names the n-th source it was given.

A generator may cite a source it was never given (`[7]` of five) or write `[1, 2]`; the
customer must only ever see markers that lead somewhere. The streaming filter cleans text
as it arrives; `citations_number` makes the stored answer's final, renumbered form.
"""

import re
from dataclasses import dataclass

# "[3]" or "[1, 2]", with the space before it, so removing one leaves no gap.
_MARKER = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# What may still grow into a marker at the end of a streamed piece.
_OPEN_MARKER = re.compile(r"\s*\[[\d,\s]{0,16}$")


def _numbers(group: str) -> list[int]:
    return [int(number) for number in group.split(",")]


class MarkerFilter:
    """Streams text through, dropping markers that name no source.

    A marker split across pieces (`[`, `1`, `]`) is held back until it closes.
    """

    def __init__(self, *, source_count: int):
        self.source_count = source_count
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        open_marker = _OPEN_MARKER.search(text)
        if open_marker:
            text, self._pending = text[: open_marker.start()], text[open_marker.start() :]
        else:
            self._pending = ""
        return _MARKER.sub(self._keep_valid, text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return _MARKER.sub(self._keep_valid, text)

    def _keep_valid(self, match: re.Match) -> str:
        valid = [n for n in _numbers(match.group(1)) if 1 <= n <= self.source_count]
        if not valid:
            return ""
        return match.group(0)[: match.start(1) - match.start() - 1] + "".join(
            f"[{n}]" for n in valid
        )


@dataclass(frozen=True)
class NumberedAnswer:
    text: str
    # cited[i] is the 0-based index, among the sources given, of the source marked [i + 1].
    cited: list[int]


def citations_number(*, text: str, source_count: int) -> NumberedAnswer:
    """Keep valid markers, renumbered 1, 2, ... in order of first use; drop the rest."""
    cited: list[int] = []

    def renumber(match: re.Match) -> str:
        markers = []
        for number in _numbers(match.group(1)):
            if not 1 <= number <= source_count:
                continue
            if number - 1 not in cited:
                cited.append(number - 1)
            marker = f"[{cited.index(number - 1) + 1}]"
            if marker not in markers:
                markers.append(marker)
        if not markers:
            return ""
        return " " + "".join(markers)

    renumbered = _MARKER.sub(renumber, text)
    # A marker repeated back to back ("[1] [1]") reads as one.
    renumbered = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", renumbered)
    return NumberedAnswer(text=renumbered.strip(), cited=cited)
