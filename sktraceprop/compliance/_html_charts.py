"""The report page's drawings, inline SVG: the lineage graph and the prediction log by
month."""

from ._graph import NODE_HEIGHT, NODE_WIDTH, lineage_graph
from ._html_parts import _e

_NODE_FILL = {
    "source": "#e8f1fb",
    "derived": "#eef7ee",
    "upstream op": "#fdf3e6",
    "op": "#f4f4f4",
    "model": "#fbe9ef",
}


def _svg_graph(report):
    graph = lineage_graph(report)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{graph["width"]}" '
        f'height="{graph["height"]}" viewBox="0 0 {graph["width"]} {graph["height"]}">',
        "<title>Lineage: source files, ops and the model</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#7a8699"/></marker></defs>',
    ]
    for n in graph["nodes"]:
        label = n["label"] if len(n["label"]) <= 21 else n["label"][:20] + "\u2026"
        detail = n["detail"] if len(n["detail"]) <= 30 else n["detail"][:29] + "\u2026"
        parts.append(
            f"<g><title>{_e(n['kind'])}: {_e(n['label'])} ({_e(n['detail'])})</title>"
            f'<rect x="{n["x"]:.1f}" y="{n["y"]:.1f}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="7" fill="{_NODE_FILL[n["kind"]]}" stroke="#1f3b5c" '
            'stroke-width="1.2"/>'
            f'<text x="{n["x"] + 9:.1f}" y="{n["y"] + 18:.1f}" font-size="13" '
            f'font-weight="600" fill="#1d2330">{_e(label)}</text>'
            f'<text x="{n["x"] + 9:.1f}" y="{n["y"] + 35:.1f}" font-size="11" '
            f'fill="#555f6d">{_e(detail)}</text></g>'
        )
    for p in graph["paths"]:
        # drawn over the boxes: an edge that skips a layer is seen crossing it
        mid = (p["x1"] + p["x2"]) / 2
        parts.append(
            f'<path d="M {p["x1"]:.1f} {p["y1"]:.1f} C {mid:.1f} {p["y1"]:.1f}, {mid:.1f} '
            f'{p["y2"]:.1f}, {p["x2"]:.1f} {p["y2"]:.1f}" fill="none" stroke="#5b6a80" '
            'stroke-opacity="0.75" stroke-width="1.4" marker-end="url(#arrow)"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_months(by_month):
    if not by_month:
        return ""
    months = list(by_month.items())
    top = max(v["rows"] for _, v in months) or 1
    bar, gap, height = 34, 10, 120
    width = len(months) * (bar + gap) + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height + 40}" viewBox="0 0 {width} {height + 40}">',
        "<title>Rows predicted per month (UTC)</title>",
    ]
    for i, (month, v) in enumerate(months):
        h = max(1.0, height * v["rows"] / top)
        x = 30 + i * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{10 + height - h:.1f}" width="{bar}" height="{h:.1f}" '
            f'fill="#3f6ea5"><title>{_e(month)}: {v["calls"]} calls, {v["rows"]} rows'
            "</title></rect>"
            f'<text x="{x + bar / 2}" y="{height + 26}" font-size="11" text-anchor="middle" '
            f'fill="#1d2330">{_e(month)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
