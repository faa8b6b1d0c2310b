"""Draws a state machine graph as inline SVG, the path taken highlighted and coverage shaded.

A layered drawing (layer = distance from StartAt) is enough for pipeline-sized machines and needs no
JavaScript, so the report stays one offline file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from html import escape

from asl.graph import Edge, EdgeKind, Graph

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 40, 40, 56, 30


def layout(graph: Graph) -> dict[str, tuple[float, float]]:
    depth: dict[str, int] = {graph.start_at: 0}
    queue = deque([graph.start_at])
    while queue:
        name = queue.popleft()
        for edge in graph.edges_from(name):
            if edge.target not in depth and edge.target in graph.states:
                depth[edge.target] = depth[name] + 1
                queue.append(edge.target)
    last = max(depth.values(), default=0)
    for name in graph.states:  # unreachable states go last rather than vanish
        if name not in depth:
            last += 1
            depth[name] = last
    layers: dict[int, list[str]] = {}
    for name in graph.states:
        layers.setdefault(depth[name], []).append(name)
    width = max(len(v) for v in layers.values())
    positions = {}
    for level, names in layers.items():
        offset = (width - len(names)) * (BOX_W + GAP_X) / 2
        for i, name in enumerate(names):
            positions[name] = (MARGIN + offset + i * (BOX_W + GAP_X), MARGIN + level * (BOX_H + GAP_Y))
    return positions


def render_svg(
    graph: Graph,
    *,
    visits: Mapping[str, int],
    taken: Mapping[Edge, int],
    failed: set[str] = frozenset(),
    coverage: Mapping[str, int] | None = None,
) -> str:
    pos = layout(graph)
    width = max(x for x, _ in pos.values()) + BOX_W + MARGIN + 60
    height = max(y for _, y in pos.values()) + BOX_H + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="state-graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>',
    ]
    for edge in graph.edges:
        if edge.source not in pos or edge.target not in pos:
            continue
        parts.append(_edge(edge, pos, taken.get(edge, 0)))
    for name, state in graph.states.items():
        x, y = pos[name]
        hits = visits.get(name, 0)
        session_hits = (coverage or {}).get(name, hits)
        fill = "#f8d7da" if name in failed else "#d4edda" if hits else "#e2e3e5" if session_hits else "#ffffff"
        stroke = "#842029" if name in failed else "#0f5132" if hits else "#6c757d"
        rx = 18 if state.terminal else 4
        dash = ' stroke-dasharray="4 3"' if not session_hits else ""
        parts.append(
            f'<g class="state{" visited" if hits else ""}" data-state="{escape(name)}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="{rx}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{2 if hits else 1}"{dash}/>'
            f'<text x="{x + BOX_W / 2}" y="{y + 17}" text-anchor="middle">{escape(name[:24])}</text>'
            f'<text x="{x + BOX_W / 2}" y="{y + 32}" text-anchor="middle" fill="#555" font-size="10">'
            f'{escape(state.type)}{f" ×{hits}" if hits > 1 else ""}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(edge: Edge, pos: Mapping[str, tuple[float, float]], hits: int) -> str:
    sx, sy = pos[edge.source]
    tx, ty = pos[edge.target]
    colour = {EdgeKind.CATCH: "#b02a37", EdgeKind.RETRY: "#b58105"}.get(edge.kind, "#0f5132" if hits else "#adb5bd")
    if not hits:
        colour = "#ced4da"
    width = 2.5 if hits else 1
    dash = ' stroke-dasharray="5 4"' if edge.kind in (EdgeKind.CATCH, EdgeKind.RETRY) else ""
    title = f"<title>{escape(edge.source)} → {escape(edge.target)} ({escape(edge.label)}), taken {hits}×</title>"
    if edge.source == edge.target:  # retry: a loop on the right side
        x, y = sx + BOX_W, sy + BOX_H / 2
        d = f"M {x} {y - 8} C {x + 45} {y - 30}, {x + 45} {y + 30}, {x} {y + 8}"
    elif ty > sy:
        d = f"M {sx + BOX_W / 2} {sy + BOX_H} L {tx + BOX_W / 2} {ty}"
    else:  # back edge (a polling loop): curve around the left
        x1, y1, x2, y2 = sx, sy + BOX_H / 2, tx, ty + BOX_H / 2
        bend = min(x1, x2) - 50
        d = f"M {x1} {y1} C {bend} {y1}, {bend} {y2}, {x2} {y2}"
    return (
        f'<path class="edge{" taken" if hits else ""}" d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{width}"{dash} marker-end="url(#arrow)">{title}</path>'
    )
