"""The dashboard's charts as inline SVG drawn on the server: no script, nothing fetched.

The geometry is worked out here; templates/analytics/_bar_chart.html and
_column_chart.html draw it, escaping every label (document titles among them)."""

import math
from collections.abc import Sequence

from django import template

from assistant.insights.analytics import Tally

register = template.Library()

# Horizontal bars: each label above its bar, the number after the bar; narrow enough for
# half a page at the text's own size.
BAR_WIDTH = 360
BAR_ROW = 34
BAR_LABEL_BASELINE = 12
BAR_TOP = 16
BAR_HEIGHT = 12
BAR_LONGEST = 270  # the rest is room for the number
LABEL_CHARS = 55

# Columns: one per day along the x axis.
COLUMN_WIDTH = 720
COLUMN_LEFT = 36
COLUMN_TOP = 12
COLUMN_PLOT_HEIGHT = 160
COLUMN_BOTTOM = 28
COLUMN_LABELS = 8  # day labels at most under the axis


@register.inclusion_tag("analytics/_bar_chart.html")
def bar_chart(tallies: Sequence[Tally], *, title: str, chart_id: str) -> dict:
    longest = max((tally.count for tally in tallies), default=0)
    bars = []
    for index, tally in enumerate(tallies):
        length = tally.count / longest * BAR_LONGEST if longest else 0
        row = index * BAR_ROW
        bars.append(
            {
                "tally": tally,
                "label": _shortened(tally.label),
                "label_y": row + BAR_LABEL_BASELINE,
                "y": row + BAR_TOP,
                "length": _px(max(length, 2) if tally.count else 0),
                "number_x": _px(length + 6),
                "number_y": row + BAR_TOP + BAR_HEIGHT - 1,
            }
        )
    return {
        **_numbers(tallies),
        "title": title,
        "chart_id": chart_id,
        "bars": bars,
        "width": BAR_WIDTH,
        "height": BAR_ROW * len(bars),
        "bar_height": BAR_HEIGHT,
    }


@register.inclusion_tag("analytics/_column_chart.html")
def column_chart(tallies: Sequence[Tally], *, title: str, chart_id: str) -> dict:
    highest = max((tally.count for tally in tallies), default=0)
    plot_width = COLUMN_WIDTH - COLUMN_LEFT
    slot = plot_width / max(len(tallies), 1)
    baseline = COLUMN_TOP + COLUMN_PLOT_HEIGHT
    label_every = max(1, math.ceil(len(tallies) / COLUMN_LABELS))
    columns = []
    for index, tally in enumerate(tallies):
        height = tally.count / highest * COLUMN_PLOT_HEIGHT if highest else 0
        x = COLUMN_LEFT + index * slot
        columns.append(
            {
                "tally": tally,
                "x": _px(x + slot * 0.1),
                "y": _px(baseline - height),
                "width": _px(max(slot * 0.8, 1)),
                "height": _px(height),
                "label_x": _px(x + slot / 2) if index % label_every == 0 else None,
            }
        )
    return {
        **_numbers(tallies),
        "title": title,
        "chart_id": chart_id,
        "columns": columns,
        "width": COLUMN_WIDTH,
        "height": baseline + COLUMN_BOTTOM,
        "left": COLUMN_LEFT,
        "axis_label_x": COLUMN_LEFT - 6,
        "highest_y": COLUMN_TOP + 4,
        "baseline": baseline,
        "label_y": baseline + 18,
        "highest": highest,
    }


@register.filter
def percent(rate: float | None) -> str:
    """0.4286 → "42.9 %"; no rate (nothing to divide by) → "n/a"."""
    return "n/a" if rate is None else f"{rate * 100:.1f} %"


def _numbers(tallies: Sequence[Tally]) -> dict:
    """The table under a chart: the same numbers as text."""
    return {"tallies": tallies, "with_share": any(t.share is not None for t in tallies)}


def _shortened(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _px(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
