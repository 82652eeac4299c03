"""Python's cycle collector, set for a long-lived process that simulates (a web process
serving runs itself, a simworker).

The collector pauses every thread while it runs, and a full pass walks every tracked object.
A live run allocates millions of short-lived objects a minute, and with the default
thresholds (700, 10, 10) that set off a full pass every 2 to 5 seconds under load, each
walking about 200,000 objects (Django, the modules, the runs) and pausing the server for
0.3 to 1.2 s (measured in bench/abuse.py's attack): seconds with no frames for anyone, and
health checks answered late. Almost everything a run makes is freed by reference counting
(a full pass found 1 to 5 thousand cyclic objects among 200,000), so:

- What exists once the process has started (Django, the modules, the registry) is moved
  out of the collector's sight (gc.freeze): no pass walks it again.
- The youngest generation is collected every YOUNG_THRESHOLD allocations rather than 700:
  a young pass stays short, and full passes come about fourteen times less often.

playground/fenced/memory.py still runs a full pass after a burst of closed sockets, whose
objects are held by cycles.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Call once the process has loaded what it keeps for its lifetime."""
    gc.collect()  # what start-up left in cycles, so it is not frozen with the rest
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
