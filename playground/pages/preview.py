"""The one renderer of a design as a picture: the share card of /s/<id> (Open Graph image),
the thumbnails of the lessons gallery and of a class's work, and the editor's pictures (its
SVG and PNG export, its version previews: POST /api/preview.svg, the PNG rasterised in the
browser from that SVG).

`layout` places the design's cards (the editor's size, at the editor's positions) under the
title, either scaled to fit a frame (1200x630 for the share card) or at the editor's own
size (`fit_to=None`: the picture as large as the design); `svg` and `png` draw that one layout,
so the pictures always agree. Every piece of user text in the SVG goes through xml escaping.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from simulations import KINDS

WIDTH, HEIGHT = 1200, 630
TITLE_BAND = 96  # the title and subtitle above the diagram
MARGIN = 36
CARD_W, CARD_H = 136, 84  # the editor's card size (static/playground/topology.js)
MAX_SCALE = 1.5  # small designs are drawn larger, to fill the card
NATURAL_MIN_WIDTH = 480  # a design's own size: room for its title even with one card
NATURAL_MAX_SIDE = 8000  # and no larger (a browser refuses a bigger canvas to rasterise)
GRID_STEP = (200, 140)  # where cards without a position go: a grid, 6 a row
COLORS = {"bg": "#f6f7f9", "card": "#ffffff", "border": "#d0d5dd", "ink": "#1d2433",
          "muted": "#667085", "link": "#98a2b3", "replication": "#7c3aed"}
GROUP_COLORS = {"traffic": "#4f46e5", "edge": "#0891b2", "compute": "#16a34a",
                "storage": "#d97706", "messaging": "#db2777"}
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PNG_SUPERSAMPLE = 2  # drawn at twice the size and scaled down: smooth lines and text


@dataclass
class Card:
    x: float  # centre
    y: float
    w: float
    h: float
    name: str
    kind: str
    color: str


@dataclass
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    replication: bool


@dataclass
class Layout:
    width: int
    height: int
    title: str
    subtitle: str
    scale: float
    cards: list[Card]
    arrows: list[Arrow]


def _position(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def layout(document: dict[str, Any], fit_to: tuple[int, int] | None = (WIDTH, HEIGHT)
           ) -> Layout:
    """Where the cards and arrows go. Any JSON object draws (a design in progress, one the
    validator refuses): what is not a card or a link of two cards is left out."""
    components = [c for c in _list(document.get("components")) if isinstance(c, dict)]
    centres = []
    for i, c in enumerate(components):
        pos = c.get("position")
        pos = pos if isinstance(pos, dict) else {}
        if _position(pos.get("x")) and _position(pos.get("y")):
            centres.append((float(pos["x"]), float(pos["y"])))
        else:
            centres.append(((i % 6) * GRID_STEP[0], (i // 6) * GRID_STEP[1]))
    xs, ys = [x for x, _ in centres] or [0.0], [y for _, y in centres] or [0.0]
    span_w, span_h = max(xs) - min(xs) + CARD_W, max(ys) - min(ys) + CARD_H
    if fit_to:
        width, height = fit_to
        scale = min(MAX_SCALE, (width - 2 * MARGIN) / span_w,
                    (height - TITLE_BAND - MARGIN) / span_h)
    else:
        scale = min(1.0, (NATURAL_MAX_SIDE - 2 * MARGIN) / span_w,
                    (NATURAL_MAX_SIDE - TITLE_BAND - MARGIN) / span_h)
        width = max(NATURAL_MIN_WIDTH, math.ceil(span_w * scale + 2 * MARGIN))
        height = math.ceil(span_h * scale + TITLE_BAND + MARGIN)
    area_h = height - TITLE_BAND - MARGIN
    dx = width / 2 - (min(xs) + max(xs)) / 2 * scale
    dy = TITLE_BAND + area_h / 2 - (min(ys) + max(ys)) / 2 * scale
    cards, where = [], {}
    for c, (x, y) in zip(components, centres, strict=True):
        kind = str(c.get("kind", ""))
        card = Card(x * scale + dx, y * scale + dy, CARD_W * scale, CARD_H * scale,
                    str(c.get("label") or c.get("id", "")), kind,
                    GROUP_COLORS.get(KINDS[kind].group if kind in KINDS else "", COLORS["muted"]))
        cards.append(card)
        where[str(c.get("id"))] = card
    arrows = []
    for link in _list(document.get("links")):
        if not isinstance(link, dict):
            continue
        a, b = where.get(str(link.get("from"))), where.get(str(link.get("to")))
        if a and b and a is not b:
            (x1, y1), (x2, y2) = _edge_point(a, b), _edge_point(b, a)
            arrows.append(Arrow(x1, y1, x2, y2, link.get("kind") == "replication"))
    count = len(components)
    return Layout(width, height, str(document.get("name", "")),
                  f"{count} component{'s' * (count != 1)} · "
                  f"{len(arrows)} link{'s' * (len(arrows) != 1)} · System Design Playground",
                  scale, cards, arrows)


def _edge_point(card: Card, toward: Card) -> tuple[float, float]:
    """Where the line from card's centre to toward's centre leaves card's rectangle."""
    vx, vy = toward.x - card.x, toward.y - card.y
    if vx == 0 and vy == 0:
        return card.x, card.y
    t = min(card.w / 2 / abs(vx) if vx else math.inf, card.h / 2 / abs(vy) if vy else math.inf)
    return card.x + vx * t, card.y + vy * t


def fit(text: str, width: float, measure: Callable[[str], float]) -> str:
    """`text`, cut with an ellipsis to fit `width`."""
    if measure(text) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if measure(text[:mid] + "…") <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…" if low else ""


def _arrow_head(a: Arrow, size: float) -> list[tuple[float, float]]:
    angle = math.atan2(a.y2 - a.y1, a.x2 - a.x1)
    back = [(a.x2 - size * math.cos(angle + s), a.y2 - size * math.sin(angle + s))
            for s in (0.45, -0.45)]
    return [(a.x2, a.y2), *back]


def _sizes(scale: float) -> tuple[float, float]:
    return max(7.0, 15 * scale), max(6.0, 12 * scale)


# -- SVG -------------------------------------------------------------------------------------
def _svg_width(size: float) -> Callable[[str], float]:
    return lambda text: len(text) * size * 0.6  # DejaVu Sans averages about 0.6 em a glyph


def svg(document: dict[str, Any], fit_to: tuple[int, int] | None = (WIDTH, HEIGHT)) -> str:
    """The picture as SVG: fitted to `fit_to` (the share card), or at the design's own size."""
    plan = layout(document, fit_to)
    width, height = plan.width, plan.height
    name_size, kind_size = _sizes(plan.scale)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, system-ui, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="{COLORS["bg"]}"/>',
           f'<text x="{MARGIN}" y="54" font-size="30" font-weight="bold" '
           f'fill="{COLORS["ink"]}">{escape(fit(plan.title, width - 2 * MARGIN, _svg_width(30)))}'
           '</text>',
           f'<text x="{MARGIN}" y="82" font-size="15" fill="{COLORS["muted"]}">'
           f'{escape(plan.subtitle)}</text>']
    for a in plan.arrows:
        color = COLORS["replication" if a.replication else "link"]
        dash = ' stroke-dasharray="7 5"' if a.replication else ""
        head = " ".join(f"{x:.1f},{y:.1f}" for x, y in _arrow_head(a, max(5, 11 * plan.scale)))
        out.append(f'<line x1="{a.x1:.1f}" y1="{a.y1:.1f}" x2="{a.x2:.1f}" y2="{a.y2:.1f}" '
                   f'stroke="{color}" stroke-width="2"{dash}/>'
                   f'<polygon points="{head}" fill="{color}"/>')
    for c in plan.cards:
        left, top, pad = c.x - c.w / 2, c.y - c.h / 2, 8 * plan.scale
        radius = 12 * plan.scale
        out.append(
            f'<g><rect x="{left:.1f}" y="{top:.1f}" width="{c.w:.1f}" height="{c.h:.1f}" '
            f'rx="{radius:.1f}" fill="{COLORS["card"]}" stroke="{COLORS["border"]}" '
            f'stroke-width="1.5"/>'
            f'<rect x="{left + radius:.1f}" y="{top:.1f}" width="{c.w - 2 * radius:.1f}" '
            f'height="{max(2, 4 * plan.scale):.1f}" fill="{c.color}"/>'
            f'<text x="{c.x:.1f}" y="{c.y:.1f}" font-size="{name_size:.1f}" font-weight="bold" '
            f'text-anchor="middle" fill="{COLORS["ink"]}">'
            f'{escape(fit(c.name, c.w - 2 * pad, _svg_width(name_size)))}</text>'
            f'<text x="{c.x:.1f}" y="{c.y + kind_size * 1.5:.1f}" font-size="{kind_size:.1f}" '
            f'text-anchor="middle" fill="{COLORS["muted"]}">'
            f'{escape(fit(c.kind, c.w - 2 * pad, _svg_width(kind_size)))}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


# -- PNG -------------------------------------------------------------------------------------
@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # no DejaVu on this machine: Pillow's own font
        return ImageFont.load_default(size)


def png(document: dict[str, Any]) -> bytes:
    plan, k = layout(document), PNG_SUPERSAMPLE
    image = Image.new("RGB", (WIDTH * k, HEIGHT * k), COLORS["bg"])
    draw = ImageDraw.Draw(image)

    def text(x, y, value, size, bold, color, width, anchor):
        font = _font(round(size * k), bold)
        value = fit(value, width * k, font.getlength)
        draw.text((x * k, y * k), value, font=font, fill=color, anchor=anchor)

    text(MARGIN, 54, plan.title, 30, True, COLORS["ink"], WIDTH - 2 * MARGIN, "ls")
    text(MARGIN, 82, plan.subtitle, 15, False, COLORS["muted"], WIDTH - 2 * MARGIN, "ls")
    for a in plan.arrows:
        color = COLORS["replication" if a.replication else "link"]
        draw.line([(a.x1 * k, a.y1 * k), (a.x2 * k, a.y2 * k)], fill=color, width=2 * k)
        head = _arrow_head(a, max(5, 11 * plan.scale))
        draw.polygon([(x * k, y * k) for x, y in head], fill=color)
    name_size, kind_size = _sizes(plan.scale)
    for c in plan.cards:
        left, top, pad = c.x - c.w / 2, c.y - c.h / 2, 8 * plan.scale
        radius = 12 * plan.scale
        draw.rounded_rectangle([left * k, top * k, (left + c.w) * k, (top + c.h) * k],
                               radius=radius * k, fill=COLORS["card"],
                               outline=COLORS["border"], width=max(1, round(1.5 * k)))
        draw.rectangle([(left + radius) * k, top * k, (left + c.w - radius) * k,
                        (top + max(2, 4 * plan.scale)) * k], fill=c.color)
        text(c.x, c.y, c.name, name_size, True, COLORS["ink"], c.w - 2 * pad, "ms")
        text(c.x, c.y + kind_size * 1.5, c.kind, kind_size, False, COLORS["muted"],
             c.w - 2 * pad, "ms")
    out = io.BytesIO()
    image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()
