// Geometry with no drawing in it: screen <-> model coordinates from a pan/zoom viewport,
// hit boxes, and picking the neighbour in an arrow-key direction.

/** Screen point (relative to the canvas container) -> model point. */
export function toModel({ x, y }, pan, zoom) {
  return { x: (x - pan.x) / zoom, y: (y - pan.y) / zoom };
}

/** Model point -> screen point (relative to the canvas container). */
export function toScreen({ x, y }, pan, zoom) {
  return { x: x * zoom + pan.x, y: y * zoom + pan.y };
}

/** Client (page) coordinates -> model, given the container's bounding rect. */
export function clientToModel(clientX, clientY, rect, pan, zoom) {
  return toModel({ x: clientX - rect.left, y: clientY - rect.top }, pan, zoom);
}

export function contains(box, p, pad = 0) {
  return p.x >= box.x1 - pad && p.x <= box.x2 + pad && p.y >= box.y1 - pad && p.y <= box.y2 + pad;
}

const DIRS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/**
 * The item nearest to `from` in the direction of an arrow key: ahead of it, scored by
 * distance along the direction plus twice the sideways offset. items: [{id, x, y}].
 */
export function neighbourInDirection(items, from, key) {
  const dir = DIRS[key];
  if (!dir) return null;
  let best = null;
  let bestScore = Infinity;
  for (const it of items) {
    if (it.id === from.id) continue;
    const dx = it.x - from.x;
    const dy = it.y - from.y;
    const along = dx * dir[0] + dy * dir[1];
    if (along <= 1) continue;
    const side = Math.abs(dx * dir[1] - dy * dir[0]);
    const score = along + 2 * side;
    if (score < bestScore) {
      bestScore = score;
      best = it;
    }
  }
  return best;
}
