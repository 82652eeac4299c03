# Sourced by scripts/run and scripts/test: `venv_bootstrap REQUIREMENTS_FILE` makes sure .venv
# exists with Python 3.11+ and holds that file's packages, and sets ROOT, VENV and PY;
# `engine_build` compiles the engine when its sources changed (docs/engine.md).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

die() {
  echo "error: $*" >&2
  exit 1
}

require_python_311() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$1 is not Python 3.11 or newer. Install python3.11 (and remove .venv if an older Python made it)."
}

venv_bootstrap() {
  local requirements="$ROOT/$1" stamp="$VENV/.installed-$1.sha256" base digest
  if [[ ! -x "$PY" ]]; then
    base="$(command -v python3.11 || command -v python3)" ||
      die "Python 3.11 or newer is needed: install python3.11 and run this again."
    require_python_311 "$base"
    echo "Creating .venv with $base"
    # Remove a half-made venv (Debian without python3-venv), or the next run would trust it.
    "$base" -m venv "$VENV" || {
      rm -rf "$VENV"
      die "could not create .venv; on Debian/Ubuntu: apt-get install python3-venv"
    }
  fi
  require_python_311 "$PY"

  # Hash every requirements file, as one includes the other with -r.
  digest="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]]; then
    echo "Installing $1 into .venv ..."
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" >"$stamp"
  fi
}

# The compiled engine, 2x faster than plain Python: built when a C compiler is there and the
# sources differ from the last build's (their digest is its stamp), else a no-op. Without a
# compiler, or if the build fails, one line says the engine runs as plain Python.
engine_build() {
  [[ -z "${SIMULATIONS_PURE:-}" ]] || return 0
  venv_bootstrap requirements-build.txt
  "$PY" "$ROOT/scripts/build_engine.py" --if-stale
}
