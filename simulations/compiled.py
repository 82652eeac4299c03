"""The engine compiled with mypyc, when it has been built (scripts/build-engine,
docs/engine.md): about 3x faster, the same results.

The build copies this package to build/engine/simulations and compiles its hot modules there
(the kernel, metrics, distributions and every component kind). When that copy was built from
exactly the sources beside this file, for this Python, the package loads its modules from it;
else, or with SIMULATIONS_PURE=1, it runs as the plain Python it is. A copy built from other
sources is ignored with a warning, so an edit never runs stale compiled code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUILD = PACKAGE.parent / "build" / "engine"
STAMP = BUILD / "stamp.json"


def source_digest(package: Path = PACKAGE) -> str:
    """SHA-256 of every module of the package, by path: what a build was made from."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stamp() -> dict[str, str]:
    return {"sources": source_digest(), "python": sys.implementation.cache_tag}


def use_build(package_path: list[str]) -> bool:
    """Put the compiled copy first on the package's path if it matches these sources."""
    if os.environ.get("SIMULATIONS_PURE") or not STAMP.exists():
        return False
    if json.loads(STAMP.read_text()) != stamp():
        warnings.warn("build/engine was compiled from other sources or for another Python: "
                      "running the engine as plain Python (scripts/build-engine rebuilds it)",
                      stacklevel=3)
        return False
    sys.path.append(str(BUILD))  # where the modules' shared library lies
    package_path.insert(0, str(BUILD / "simulations"))
    return True
