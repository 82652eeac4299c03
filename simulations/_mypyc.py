"""`mypyc_attr` for the modules that may be compiled with mypyc (docs/engine.md): the
real decorator where mypy_extensions is installed (it comes with mypy), else one that does
nothing, so the engine still runs as plain Python with no extra package.

Every class a replay checkpoint pickles is marked
`@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)`, and each of its
subclasses `@mypyc_attr(allow_interpreted_subclasses=True)`. `serializable` lets pickle make
a blank instance and fill it in. Alone, it leaves `__init__` out of a call from interpreted
code (mypyc/mypyc#1172: engine.py making a component would get an empty object);
`allow_interpreted_subclasses` gives such a class Python's own protocol, `__new__` then
`__init__`, whoever calls it. What it costs (method calls through the class's table rather
than direct) did not show in instruction counts; see docs/engine.md.
"""

from __future__ import annotations

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # plain Python without mypy installed
    def mypyc_attr(*attrs, **kwattrs):  # type: ignore[no-redef]
        return lambda cls: cls

__all__ = ["mypyc_attr"]
