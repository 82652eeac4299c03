"""Compile the engine's hot modules with mypyc into build/engine (simulations/compiled.py,
docs/engine.md). scripts/build-engine runs it; scripts/run and scripts/test run it with
--if-stale, which builds only when the sources changed since the last build.

1. Copy simulations/ to build/engine/simulations.
2. mypyc compiles the kernel, metrics, distributions and every component kind there, as one
   group (every kind subclasses Component). engine.py and the rest stay interpreted. Nothing
   in what mypyc generates is edited: the classes a checkpoint pickles are declared so that
   mypyc gives them Python's semantics (simulations/_mypyc.py).
3. Check the compiled copy reports byte for byte what the plain one does, then write the
   stamp (the sources' digest) that makes `import simulations` use it. Any failure leaves
   no build behind.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "engine"
LOG = ROOT / "build" / "engine.log"
MYPY_OPTIONS = ["--python-version", "3.11", "--follow-imports", "silent",
                "--ignore-missing-imports", "--disable-error-code", "annotation-unchecked"]
# What the check runs, plain and compiled: every example and the first three lessons.
CHECK = """
import json, sys
from pathlib import Path
import simulations
assert simulations.COMPILED == (sys.argv[1] == "compiled"), "wrong mode"
docs = sorted(Path("docs/examples").glob("*.json"))
docs += sorted(Path("docs/lessons").glob("*.json"))[:3]
out = {p.name: simulations.run(json.loads(p.read_text()), seed=3, duration_s=20) for p in docs}
for report in out.values():
    report.pop("wall_s", None)
print(json.dumps(out, sort_keys=True))
"""


def load_compiled():
    """simulations/compiled.py alone: the stamp and digest, without importing the engine
    (an up-to-date check costs milliseconds, not the engine's imports)."""
    spec = importlib.util.spec_from_file_location("_engine_stamp",
                                                  ROOT / "simulations" / "compiled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hot_modules() -> list[str]:
    package = OUT / "simulations"
    return [str(p.relative_to(OUT)) for p in
            [package / "kernel.py", package / "metrics.py", package / "distributions.py",
             *sorted((package / "components").glob("*.py"))]
            if p.name != "__init__.py"]


def compile_copy() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    os.chdir(OUT)
    extensions = mypycify([*MYPY_OPTIONS, *hot_modules()], opt_level="3", debug_level="0")
    setup(name="simulations-compiled", ext_modules=extensions,
          script_args=["build_ext", "--inplace", "--quiet"])
    shutil.rmtree(OUT / "build")
    os.chdir(ROOT)


def reports(mode: str) -> str:
    env = {**os.environ, "SIMULATIONS_PURE": "1" if mode == "plain" else ""}
    return subprocess.run([sys.executable, "-c", CHECK, mode], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def build() -> int:
    os.environ["SIMULATIONS_PURE"] = "1"  # never load the build this is about to replace
    compiled = load_compiled()
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(ROOT / "simulations", OUT / "simulations",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    # The digest of what is compiled, taken from the copy: an edit made during the build
    # leaves the build stale, as it should.
    stamp = {**compiled.stamp(), "sources": compiled.source_digest(OUT / "simulations")}
    try:
        compile_copy()
        compiled.STAMP.write_text(json.dumps(stamp))
        if reports("compiled") != reports("plain"):
            raise SystemExit("build-engine: the compiled engine reports differently; removed")
    except BaseException:
        shutil.rmtree(OUT, ignore_errors=True)
        raise
    print(f"build-engine: compiled engine in {OUT.relative_to(ROOT)}; "
          "`import simulations` uses it (SIMULATIONS_PURE=1 for plain Python)")
    return 0


def has_compiler() -> bool:
    """The C compiler Python's extensions are built with (what setuptools will call)."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    return bool(cc) and shutil.which(cc[0]) is not None


def build_if_stale() -> int:
    """Build unless the build matches these sources; on no compiler or a failed build,
    say in one line that the engine runs as plain Python. Never fails the caller."""
    if os.environ.get("SIMULATIONS_PURE"):
        return 0
    compiled = load_compiled()
    if compiled.STAMP.exists() and json.loads(compiled.STAMP.read_text()) == compiled.stamp():
        return 0
    if not has_compiler():
        print("No C compiler found: the engine runs as plain Python, about 3x slower "
              "(docs/engine.md).")
        return 0
    print("Compiling the engine for these sources (a few minutes, once per change of "
          f"simulations/; log in {LOG.relative_to(ROOT)}) ...", flush=True)
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("w") as log:
        done = subprocess.run([sys.executable, __file__], stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        print(f"The engine did not compile (see {LOG.relative_to(ROOT)}): it runs as plain "
              "Python, about 3x slower.")
    return 0


if __name__ == "__main__":
    sys.exit(build_if_stale() if sys.argv[1:] == ["--if-stale"] else build())
