"""Compile the engine's hot modules with mypyc into build/engine (simulations/compiled.py,
docs/engine.md). Run through scripts/build-engine, which installs the pinned mypy first.

1. Copy simulations/ to build/engine/simulations.
2. mypyc compiles the kernel, metrics, distributions and every component kind there, as one
   group (every kind subclasses Component). engine.py and the rest stay interpreted.
3. Work around mypyc/mypyc#1172: a class marked serializable (replay checkpoints copy the
   simulation) gets a tp_init that does nothing, so calling it from interpreted code returns
   an object without attributes. Its tp_init is made to run the class's __init__, as for
   any Python class (tp_new still makes the blank object that unpickling fills).
4. Check the compiled copy reports byte for byte what the plain one does, then write the
   stamp that makes `import simulations` use it. Any failure leaves no build behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "engine"
MYPY_OPTIONS = ["--python-version", "3.11", "--follow-imports", "silent",
                "--ignore-missing-imports", "--disable-error-code", "annotation-unchecked"]
TP_INIT_STUB = re.compile(r"static int\s*\n\s*(\w+)_init\(PyObject \*self, PyObject \*args, "
                          r"PyObject \*kwds\)\s*\{\s*return 0;\s*\}")
# Classes that inherit their __init__: the class whose __init__ wrapper to call.
INHERITED_INIT = {"cache_stores___LruStore": "cache_stores___FifoStore"}
PATCH_MARK = "if (ret == NULL) return -1;"
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


def hot_modules() -> list[str]:
    package = OUT / "simulations"
    return [str(p.relative_to(OUT)) for p in
            [package / "kernel.py", package / "metrics.py", package / "distributions.py",
             *sorted((package / "components").glob("*.py"))]
            if p.name != "__init__.py"]


def patch_tp_init(build_dir: Path) -> int:
    """Make each serializable class's tp_init run its __init__; how many were patched."""
    patched = 0
    for path in build_dir.rglob("*.c"):
        text = path.read_text()
        fixed = TP_INIT_STUB.sub(lambda match, text=text: _tp_init(match, text), text)
        if fixed != text:
            patched += fixed.count(PATCH_MARK) - text.count(PATCH_MARK)
            path.write_text(fixed)
    return patched


def _tp_init(match: re.Match, text: str) -> str:
    name = match.group(1)
    new = re.search(rf"\b{name}_new\(PyTypeObject \*type, PyObject \*args, "
                    r"PyObject \*kwds\)\s*\{(.*?)\n\s*static ", text, re.S)
    if new is None or "_____init__(self, args, kwds)" in new.group(0):
        return match.group(0)  # not serializable: its tp_new runs __init__
    wrapper = f"CPyPy_{INHERITED_INIT.get(name, name)}_____init__"
    if f"{wrapper}(" not in text:
        raise SystemExit(f"build-engine: no __init__ wrapper for {name}")
    return (f"PyObject *{wrapper}(PyObject *self, PyObject *args, PyObject *kw);\n"
            f"static int\n{name}_init(PyObject *self, PyObject *args, PyObject *kwds)\n"
            f"{{\n    PyObject *ret = {wrapper}(self, args, kwds);\n"
            "    " + PATCH_MARK + "\n    Py_DECREF(ret);\n    return 0;\n}")


def compile_copy() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    os.chdir(OUT)
    extensions = mypycify([*MYPY_OPTIONS, *hot_modules()], opt_level="3", debug_level="0")
    print(f"build-engine: patched tp_init of {patch_tp_init(OUT / 'build')} classes")
    setup(name="simulations-compiled", ext_modules=extensions,
          script_args=["build_ext", "--inplace", "--quiet"])
    shutil.rmtree(OUT / "build")
    os.chdir(ROOT)


def reports(mode: str) -> str:
    env = {**os.environ, "SIMULATIONS_PURE": "1" if mode == "plain" else ""}
    return subprocess.run([sys.executable, "-c", CHECK, mode], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ["SIMULATIONS_PURE"] = "1"  # never load the build this is about to replace
    from simulations import compiled

    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(ROOT / "simulations", OUT / "simulations",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    try:
        compile_copy()
        compiled.STAMP.write_text(json.dumps(compiled.stamp()))
        if reports("compiled") != reports("plain"):
            raise SystemExit("build-engine: the compiled engine reports differently; removed")
    except BaseException:
        shutil.rmtree(OUT, ignore_errors=True)
        raise
    print(f"build-engine: compiled engine in {OUT.relative_to(ROOT)}; "
          "`import simulations` uses it (SIMULATIONS_PURE=1 for plain Python)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
