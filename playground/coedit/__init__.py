"""Co-editing one saved design (issue 19): a Yjs document shared over a websocket.

- ydoc: the scenario document <-> the shared Y document (pure pycrdt, no Django).
- rooms: a design's room in this process: its document, checked updates, coalesced saves.
- consumer: the co-editing websocket (docs/protocol.md, "Co-editing").
- presence: the bounds of what a co-editor says of where they are (pointer, field edited).
"""
