"""Server-rendered SVG bar charts: no JavaScript, readable without colour.

Each series has its own fill *pattern* (solid, diagonal hatching, dots) shown in a legend,
every bar carries its value as text, and the chart has a text alternative (`<title>` and
`<desc>`, referenced by `aria-labelledby`) that states every figure. The table beside each
chart holds the same figures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Patterns per series, in order; readable in greyscale and in print.
PATTERNS = ("solid", "hatch", "dots", "cross")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]  # one per category
    labels: list[str]  # the text printed at the end of each bar, e.g. "12 (40%)"


def _defs(prefix: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#1d70b8" stroke-width="3"/></pattern>'
        f'<pattern id="{prefix}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#ffffff"/>'
        '<circle cx="2.5" cy="2.5" r="1.6" fill="#0b0c0c"/></pattern>'
        f'<pattern id="{prefix}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        '<path d="M0 0L6 6M6 0L0 6" stroke="#505a5f" stroke-width="1.2"/></pattern>'
        "</defs>"
    )


def _fill(prefix: str, index: int) -> str:
    pattern = PATTERNS[index % len(PATTERNS)]
    return "#0b0c0c" if pattern == "solid" else f"url(#{prefix}-{pattern})"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    *,
    title: str,
    categories: list[str],
    series: list[Series],
    description: str = "",
    scale_max: float | None = None,
    label_chars: int = 34,
) -> Markup:
    """A horizontal grouped bar chart as inline SVG (Markup: already escaped)."""
    prefix = f"chart{next(_ids)}"
    label_w, bar_w, value_w = 250, 330, 110
    bar_h, gap, group_gap = 14, 3, 12
    legend_h = 22 * len(series) if len(series) > 1 else 0
    group_h = len(series) * (bar_h + gap) - gap
    top = 8 + legend_h
    height = top + len(categories) * (group_h + group_gap) + 8
    width = label_w + bar_w + value_w
    peak = scale_max if scale_max else max((v for s in series for v in s.values), default=0)
    peak = peak or 1

    figures = []
    for ci, category in enumerate(categories):
        parts = [f"{s.name}: {s.labels[ci]}" if len(series) > 1 else s.labels[ci] for s in series]
        figures.append(f"{category}: {', '.join(parts)}")
    desc = (description + " " if description else "") + "; ".join(figures) + "."

    out = [
        f'<svg class="consult-chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        'xmlns="http://www.w3.org/2000/svg" font-family="Arial, Helvetica, sans-serif" '
        'font-size="12">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>',
        _defs(prefix),
    ]
    if len(series) > 1:
        for si, s in enumerate(series):
            y = 6 + si * 22
            out.append(
                f'<rect x="{label_w}" y="{y}" width="28" height="14" fill="{_fill(prefix, si)}" '
                'stroke="#0b0c0c" stroke-width="1"/>'
                f'<text x="{label_w + 36}" y="{y + 11}" fill="#0b0c0c">{escape(s.name)}</text>'
            )
    for ci, category in enumerate(categories):
        y0 = top + ci * (group_h + group_gap)
        out.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2 + 4:.1f}" text-anchor="end" '
            f'fill="#0b0c0c">{escape(_clip(category, label_chars))}</text>'
        )
        for si, s in enumerate(series):
            y = y0 + si * (bar_h + gap)
            w = max(0.0, s.values[ci]) / peak * bar_w
            out.append(
                f'<rect class="consult-chart__bar" x="{label_w}" y="{y}" width="{w:.1f}" '
                f'height="{bar_h}" fill="{_fill(prefix, si)}" stroke="#0b0c0c" '
                'stroke-width="1"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h - 3}" fill="#0b0c0c">'
                f"{escape(s.labels[ci])}</text>"
            )
    out.append(
        f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{height - 4}" '
        'stroke="#0b0c0c" stroke-width="1"/>'
    )
    out.append("</svg>")
    return Markup("".join(out))


def interval_chart(
    *,
    title: str,
    categories: list[str],
    estimates: list[tuple[float, float | None, float | None]],
    labels: list[str],
    description: str = "",
    label_chars: int = 52,
) -> Markup:
    """Point estimates with their intervals (a dot on a line from low to high), on a scale
    from min(0, lowest low) to 1, with a marked zero when the scale goes below it."""
    prefix = f"chart{next(_ids)}"
    label_w, plot_w, value_w = 340, 280, 230
    row_h, top = 24, 26
    height = top + len(categories) * row_h + 8
    width = label_w + plot_w + value_w
    lowest = min([0.0, *[low for _, low, _ in estimates if low is not None]])
    lowest = max(-1.0, lowest)

    def x(v: float) -> float:
        v = min(1.0, max(lowest, v))
        return label_w + (v - lowest) / (1.0 - lowest) * plot_w

    desc = (description + " " if description else "") + "; ".join(
        f"{c}: {label}" for c, label in zip(categories, labels, strict=True)
    )
    out = [
        f'<svg class="consult-chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        'xmlns="http://www.w3.org/2000/svg" font-family="Arial, Helvetica, sans-serif" '
        'font-size="13">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(desc)}.</desc>',
    ]
    ticks = sorted({lowest, 0.0, 0.5, 1.0})
    for tick in ticks:
        dash = ' stroke-dasharray="3 3"' if tick else ""
        out.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 6}" '
            f'stroke="#b1b4b6" stroke-width="1"{dash}/>'
            f'<text x="{x(tick):.1f}" y="{top - 10}" text-anchor="middle" fill="#0b0c0c">'
            f"{tick:g}</text>"
        )
    for i, (category, (value, low, high), label) in enumerate(
        zip(categories, estimates, labels, strict=True)
    ):
        y = top + i * row_h + row_h / 2
        out.append(
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#0b0c0c">'
            f"{escape(_clip(category, label_chars))}</text>"
        )
        if low is not None and high is not None:
            out.append(
                f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" '
                'stroke="#0b0c0c" stroke-width="2"/>'
                f'<line x1="{x(low):.1f}" y1="{y - 5:.1f}" x2="{x(low):.1f}" y2="{y + 5:.1f}" '
                'stroke="#0b0c0c" stroke-width="2"/>'
                f'<line x1="{x(high):.1f}" y1="{y - 5:.1f}" x2="{x(high):.1f}" '
                f'y2="{y + 5:.1f}" stroke="#0b0c0c" stroke-width="2"/>'
            )
        out.append(
            f'<circle class="consult-chart__point" cx="{x(value):.1f}" cy="{y:.1f}" r="5" '
            'fill="#ffffff" stroke="#0b0c0c" stroke-width="2"/>'
            f'<text x="{label_w + plot_w + 10}" y="{y + 4:.1f}" fill="#0b0c0c">'
            f"{escape(label)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
