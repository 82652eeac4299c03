"""The scenario document as a shared Y document, and back. Mirrored by
static/playground/coedit-map.js: the two must write and read the same shape.

Three root maps:
- `scenario`: every top-level field but `components` and `links`, name -> JSON text;
- `components`: id -> map of the component's fields (JSON text each; `params` a map of
  name -> JSON text, so two people changing two parameters both win), and `order`;
- `links`: "from>to" (ids cannot hold ">", and a pair has one link) -> map of the link's
  fields (JSON text each) and `order`.
Values are JSON text, not Y values: numbers keep their type (an int stays an int, a 63-bit
seed keeps every digit) whichever side wrote them. `order` (set when an entry is added,
after the last one) keeps the document's order; ties (two added at once) go by id.

Reading is total: an entry of the wrong shape is skipped, and a link whose component is
gone (deleted while another person linked it) is left out, so every replica reads the same
document from the same state. Writing is a diff: only the fields that changed are set, so
concurrent edits of different fields all survive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pycrdt import Doc, Map

ROOTS = ("scenario", "components", "links")
ORDER = "order"
PARAMS = "params"


def roots(doc: Doc) -> tuple[Map, Map, Map]:
    return tuple(doc.get(name, type=Map) for name in ROOTS)  # type: ignore[return-value]


def link_key(link: dict[str, Any]) -> str:
    return f"{link.get('from')}>{link.get('to')}"


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _value(text: Any) -> tuple[bool, Any]:
    if not isinstance(text, str):
        return False, None
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def _fields(entry: Map, skip: tuple[str, ...]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name in sorted(entry.keys()):
        if name in skip:
            continue
        ok, value = _value(entry.get(name))
        if not ok:
            return None
        out[name] = value
    return out


def _order(entry: Map) -> float:
    ok, value = _value(entry.get(ORDER))
    return float(value) if ok and isinstance(value, (int, float)) \
        and not isinstance(value, bool) else 0.0


def _component(cid: str, entry: Any) -> tuple[float, str, dict[str, Any]] | None:
    """A component's entry read as (order, id, component); None: not of the shape."""
    if not isinstance(entry, Map):
        return None
    fields = _fields(entry, (ORDER, PARAMS))
    params = entry.get(PARAMS)
    params = _fields(params, ()) if isinstance(params, Map) else {}
    if fields is None or params is None:
        return None
    return _order(entry), cid, {"id": cid, **fields, "params": params}


def _link(key: str, entry: Any) -> tuple[float, str, dict[str, Any]] | None:
    """A link's entry read as (order, key, link); None: not of the shape."""
    if not isinstance(entry, Map):
        return None
    fields = _fields(entry, (ORDER,))
    if fields is None or link_key(fields) != key:
        return None
    return _order(entry), key, fields


def _assemble(scenario: dict[str, Any] | None, components: Iterable, links: Iterable
              ) -> dict[str, Any]:
    """The document of the entries read (None: skipped), in their order; a link whose
    component is gone is left out."""
    document = dict(scenario or {})
    found = sorted((c for c in components if c is not None), key=lambda c: (c[0], c[1]))
    document["components"] = [c for _o, _id, c in found]
    ids = {c["id"] for c in document["components"]}
    kept = sorted((link for link in links if link is not None
                   and link[2].get("from") in ids and link[2].get("to") in ids),
                  key=lambda link: (link[0], link[1]))
    document["links"] = [link for _o, _k, link in kept]
    return document


def _read(doc: Doc) -> tuple[dict | None, dict[str, tuple | None], dict[str, tuple | None]]:
    """Every entry read: the scenario's fields, components by id, links by key."""
    scenario, components, links = roots(doc)
    with doc.transaction():  # one for the whole read, not one per field
        return (_fields(scenario, ()),
                {cid: _component(cid, components.get(cid)) for cid in list(components.keys())},
                {key: _link(key, links.get(key)) for key in list(links.keys())})


def to_document(doc: Doc) -> dict[str, Any]:
    scenario, components, links = _read(doc)
    return _assemble(scenario, components.values(), links.values())


class Reading:
    """What a Y document reads as (to_document), kept entry by entry: only the entries a
    change touched are read again. Reading a whole design takes milliseconds per ten
    components (each field a few calls into pycrdt); an edit touches one or two entries.
    Every change of the document goes through apply() (a change made otherwise is not
    seen). `Reading(copy, base)`: of `copy`, a Y document with the same state as base's."""

    def __init__(self, doc: Doc, base: Reading | None = None):
        self.doc = doc
        if base is None:
            self.scenario, self.components, self.links = None, {}, {}
            self.everything = True
        else:
            base.document()  # up to date, so that its entries are the copy's too
            self.scenario = base.scenario
            self.components, self.links = dict(base.components), dict(base.links)
            self.everything = False
        self.touched: dict[str, set[str]] = {name: set() for name in ROOTS}

    def apply(self, update: bytes) -> None:
        """Apply `update` to the document, noting the entries it touches. (Observed only
        meanwhile: a subscription left on would keep its document alive, from Rust.)"""
        maps = roots(self.doc)
        subscriptions = [root.observe_deep(self._observer(name))
                         for name, root in zip(ROOTS, maps, strict=True)]
        try:
            self.doc.apply_update(update)
        finally:
            for root, subscription in zip(maps, subscriptions, strict=True):
                root.unobserve(subscription)

    def _observer(self, root: str) -> Callable[[list], None]:
        return lambda events: self._touch(root, events)  # one parameter: pycrdt asks

    def _touch(self, root: str, events: list) -> None:
        try:
            for event in events:
                path = list(event.path)
                self.touched[root].update([path[0]] if path else event.keys)
        except Exception:  # noqa: BLE001 - an event of an unexpected shape: read it all again
            self.everything = True

    def document(self) -> dict[str, Any]:
        """The document read (its entries are shared with other readings: do not change)."""
        if self.everything:
            self.everything = False
            self.scenario, self.components, self.links = _read(self.doc)
        else:
            scenario, components, links = roots(self.doc)
            with self.doc.transaction():
                if self.touched["scenario"]:
                    self.scenario = _fields(scenario, ())
                for cid in self.touched["components"]:
                    self.components[cid] = _component(cid, components.get(cid))
                for key in self.touched["links"]:
                    self.links[key] = _link(key, links.get(key))
        for touched in self.touched.values():
            touched.clear()
        return _assemble(self.scenario, self.components.values(), self.links.values())


def _set_fields(entry: Map, fields: dict[str, Any], skip: tuple[str, ...]) -> None:
    """Make `entry`'s fields (but `skip`) those of `fields`, touching only what differs."""
    for name in list(entry.keys()):
        if name not in skip and name not in fields:
            del entry[name]
    for name, value in fields.items():
        ok, old = _value(entry.get(name))
        if not ok or old != value or type(old) is not type(value):
            entry[name] = _text(value)


def _next_order(entries: Map) -> float:
    orders = [_order(e) for e in entries.values() if isinstance(e, Map)]
    return max(orders, default=-1.0) + 1.0


def apply_document(doc: Doc, document: dict[str, Any], origin: Any = None) -> None:
    """Change the Y document into `document` (a dict of the v1 shape; ids unique, links
    one per pair, as the editor keeps them), in one transaction."""
    scenario, components, links = roots(doc)
    with doc.transaction(origin=origin):
        _set_fields(scenario, {k: v for k, v in document.items()
                               if k not in ("components", "links")}, ())
        wanted = {c["id"]: c for c in document.get("components", [])}
        for cid in list(components.keys()):
            if cid not in wanted:
                del components[cid]
        for cid, component in wanted.items():
            fields = {k: v for k, v in component.items() if k not in ("id", PARAMS)}
            params = component.get(PARAMS) or {}
            entry = components.get(cid)
            if not isinstance(entry, Map) or not isinstance(entry.get(PARAMS), Map):
                components[cid] = Map({ORDER: _text(_next_order(components)),
                                       PARAMS: Map({k: _text(v) for k, v in params.items()}),
                                       **{k: _text(v) for k, v in fields.items()}})
                continue
            _set_fields(entry, fields, (ORDER, PARAMS))
            _set_fields(entry.get(PARAMS), params, ())
        wanted_links = {link_key(link): link for link in document.get("links", [])}
        for key in list(links.keys()):
            if key not in wanted_links:
                del links[key]
        for key, link in wanted_links.items():
            entry = links.get(key)
            if not isinstance(entry, Map):
                links[key] = Map({ORDER: _text(_next_order(links)),
                                  **{k: _text(v) for k, v in link.items()}})
            else:
                _set_fields(entry, link, (ORDER,))
