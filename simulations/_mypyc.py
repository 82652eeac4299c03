"""`mypyc_attr` for the modules that may be compiled with mypyc (docs/engine.md): the
real decorator where mypy_extensions is installed (it comes with mypy), else one that does
nothing, so the engine still runs as plain Python with no extra package."""

from __future__ import annotations

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # plain Python without mypy installed
    def mypyc_attr(*attrs, **kwattrs):  # type: ignore[no-redef]
        return lambda cls: cls

__all__ = ["mypyc_attr"]
