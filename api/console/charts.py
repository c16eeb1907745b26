"""Charts drawn on the server as inline SVG: a trend line, a sparkline, a stacked bar and interval
bars (estimates with their 95% intervals).

Why our own ~150 lines rather than a JavaScript chart library: the pages are rendered on the server,
an SVG arrives with the HTML and paints without a script or a second request (what keeps a page
under a second on a large store), nothing has to be packaged from npm, and each chart carries its
numbers in ``<title>`` elements and an ``aria-label`` that screen readers and tests can read.
Colours come from CSS classes (``static/console.css``), so the palette lives in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

SERIES_CLASSES = 8  # .series-0 … .series-7 in console.css


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def _scale(low: float, high: float, start: float, end: float) -> tuple[float, float]:
    span = (high - low) or 1.0
    return (end - start) / span, start


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    label: str,
    width: int = 640,
    height: int = 220,
    zero_based: bool = True,
) -> Markup:
    """Lines over shared x labels (e.g. week starts); ``None`` leaves a gap. ``label`` names the chart."""
    left, right, top, bottom = 48, 12, 12, 28
    values = [v for _, points in series for v in points if v is not None]
    if not x_labels or not values:
        return Markup('<p class="empty">No data for this period.</p>')
    low = min(0.0, *values) if zero_based else min(values)
    high = max(values) if max(values) > low else low + 1
    y_per, _ = _scale(low, high, 0, height - top - bottom)
    step = (width - left - right) / max(1, len(x_labels) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return height - bottom - (v - low) * y_per

    parts = [
        f'<svg class="chart line-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    every = max(1, -(-len(x_labels) // 6))  # at most about six labels, so they never overlap
    last = len(x_labels) - 1
    for i, name in enumerate(x_labels):
        if i % every == 0 or (i == last and last % every >= every / 2):
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">{escape(name)}</text>'
            )
    for n, (name, points) in enumerate(series):
        css = f"series-{n % SERIES_CLASSES}"
        runs: list[list[str]] = [[]]
        for i, v in enumerate(points):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline class="line {css}" points="{" ".join(run)}"/>')
        for i, v in enumerate(points):
            if v is not None:
                point_label = f"{name}, {x_labels[i]}: {_fmt(v)}"
                parts.append(
                    f'<circle class="dot {css}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
                    f"<title>{escape(point_label)}</title></circle>"
                )
    parts.append("</svg>")
    if len(series) > 1:
        legend = "".join(
            f'<li><span class="swatch series-{n % SERIES_CLASSES}"></span>{escape(name)}</li>'
            for n, (name, _) in enumerate(series)
        )
        parts.append(f'<ul class="legend">{legend}</ul>')
    return Markup("".join(parts))


def sparkline(values: Sequence[float | None], *, label: str, width: int = 120, height: int = 28) -> Markup:
    """A small trend line without axes, for a table cell."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Markup(f'<span class="empty" aria-label="{escape(label)}">–</span>')
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    return Markup(
        f'<svg class="chart sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<polyline class="line series-0" points="{points}"/></svg>'
    )


def stacked_bar(parts: Sequence[tuple[str, float]], *, label: str, width: int = 240, height: int = 14) -> Markup:
    """One horizontal bar split into named parts (e.g. the terms of a priority score, or a sentiment
    mix); each part's class is ``part-<name>`` so the stylesheet can colour it by meaning."""
    total = sum(max(0.0, v) for _, v in parts)
    if total <= 0:
        return Markup(f'<span class="empty" aria-label="{escape(label)}">–</span>')
    out = [
        f'<svg class="chart stacked-bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    x = 0.0
    for n, (name, value) in enumerate(parts):
        w = max(0.0, value) / total * width
        if w > 0:
            css = f"part-{escape(name.replace(' ', '_'))} series-{n % SERIES_CLASSES}"
            out.append(
                f'<rect class="{css}" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}">'
                f"<title>{escape(name)}: {_fmt(value)}</title></rect>"
            )
            x += w
    out.append("</svg>")
    return Markup("".join(out))


def interval_chart(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    label: str,
    unit: str = "",
    width: int = 640,
    row_height: int = 26,
) -> Markup:
    """Estimates with 95% intervals as error bars around a zero line, one row each (name, estimate,
    low, high); a row whose estimate is None says "not enough data" instead of drawing a bar."""
    if not rows:
        return Markup('<p class="empty">Nothing to show.</p>')
    name_width, right = 220, 16
    bounds = [b for _, est, low, high in rows if est is not None for b in (est, low, high) if b is not None]
    extent = max([abs(b) for b in bounds] or [1.0]) or 1.0
    mid = name_width + (width - name_width - right) / 2
    per = (width - name_width - right) / 2 / extent
    height = row_height * len(rows) + 24
    out = [
        f'<svg class="chart interval-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line class="zero" x1="{mid:.1f}" x2="{mid:.1f}" y1="0" y2="{height - 20}"/>',
        f'<text class="axis" x="{mid - extent * per:.1f}" y="{height - 4}">{_fmt(-extent)}{unit}</text>',
        f'<text class="axis" x="{mid:.1f}" y="{height - 4}" text-anchor="middle">0</text>',
        f'<text class="axis" x="{mid + extent * per:.1f}" y="{height - 4}" text-anchor="end">'
        f"{_fmt(extent)}{unit}</text>",
    ]
    for i, (name, est, low, high) in enumerate(rows):
        cy = i * row_height + row_height / 2
        out.append(f'<text class="row-name" x="0" y="{cy + 4:.1f}">{escape(name[:32])}</text>')
        if est is None:
            out.append(f'<text class="not-enough" x="{mid + 6:.1f}" y="{cy + 4:.1f}">not enough data</text>')
            continue
        lo, hi = (est if low is None else low), (est if high is None else high)
        side = "negative" if hi < 0 else "positive" if lo > 0 else "uncertain"
        text = f"{name}: {_fmt(est)}{unit} (95% interval {_fmt(lo)} to {_fmt(hi)})"
        out.append(
            f'<g class="estimate {side}"><title>{escape(text)}</title>'
            f'<line class="whisker" x1="{mid + lo * per:.1f}" x2="{mid + hi * per:.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>'
            f'<circle cx="{mid + est * per:.1f}" cy="{cy:.1f}" r="4"/></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
