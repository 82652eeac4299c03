"""The served process keeps the cycle collector's full passes short and rare
(playground/collector.py): under load they paused the server for up to a second."""

import json
import subprocess
import sys
from pathlib import Path

from playground import collector

ROOT = Path(__file__).resolve().parents[2]


def test_the_served_app_freezes_what_start_up_made():
    code = ("import gc, json; import playground.asgi; "
            "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects()), "
            "gc.get_threshold()]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    frozen, tracked, threshold = json.loads(out.splitlines()[-1])
    assert frozen > 10 * tracked  # a full pass walks a small part of what exists
    assert threshold[0] == collector.YOUNG_THRESHOLD
