"""A class of 60 students running designs, and the instructor's live dashboard.

1. Serves the app with Daphne on a free port (fresh SQLite database) and sets up a classroom:
   an instructor, an assignment and --students students, each with a seat cookie.
2. Every student opens the play websocket and runs a small design on the assignment (so
   its run sends digests), at speed 1. For --seconds, counts each student's frames: the
   students' frame rate WITHOUT the dashboard.
3. The instructor opens the dashboard socket; for --seconds, counts the students' frames
   again (WITH the dashboard) and, for every digest the dashboard receives, the delay from
   the run publishing it (`at`, wall clock, same machine) to its arrival, and the longest
   gap between two updates of one student.

Targets (issue #6): every student updated at least once a second on the dashboard, at most
2 digests a second per student, and the students' frame rate not lowered by the dashboard.
Prints figures side by side; always exits 0 (a measurement, not a test).

    .venv/bin/python bench/dashboard.py [--students 60] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ONE_ADDRESS_FOR_ALL, ROOT, live_server, percentile, table  # noqa: E402

DESIGN = {"format": "playground.scenario/v1", "name": "Mine", "duration_s": 3600,
          "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 30}},
                         {"id": "app", "kind": "service",
                          "params": {"workers": 2, "service_ms": 10}}],
          "links": [{"from": "users", "to": "app"}]}

SETUP = """
import json, django
django.setup()
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, RequestFactory
from playground.accounts import permissions
from playground.classrooms import services
from playground.classrooms.models import Assignment, Classroom
teacher = User.objects.create_user("teacher", password="bench-password-1")
room = Classroom.objects.create(name="Bench")
room.instructors.add(teacher)
brief = {"format": "playground.scenario/v1", "name": "Brief", "duration_s": 60,
         "components": [{"id": "users", "kind": "client", "params": {"rate_rps": 30}}]}
a = Assignment.objects.create(classroom=room, title="Bench", brief=brief,
                              goals={"p99_ms_max": 100})
seats = []
for i in range(N):
    key = services.join(room, f"Student {i}").key
    response = permissions.remember_seat(RequestFactory().get("/"), HttpResponse(), key)
    seats.append(response.cookies["sdp_seats"].value)
client = Client()
client.force_login(teacher)
print(json.dumps({"join_id": room.join_id, "assignment": a.share_id, "seats": seats,
                  "session": client.cookies["sessionid"].value}))
"""


def set_up(env: dict, students: int) -> dict:
    out = subprocess.run([sys.executable, "-c", SETUP.replace("N", str(students), 1)],
                         cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "playground.settings"},
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Student:
    def __init__(self, i: int, seat: str):
        self.i, self.seat = i, seat
        self.frames = 0
        self.run_id = None

    async def play(self, ws_url: str, origin: str, assignment: str, stop: asyncio.Event):
        headers = {"Cookie": f"sdp_seats={self.seat}", "Origin": origin}
        async with websockets.connect(f"{ws_url}/ws/play/", additional_headers=headers,
                                      max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "start", "scenario": DESIGN,
                                      "assignment": assignment}))
            while not stop.is_set():
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                except TimeoutError:
                    continue
                if msg["type"] == "snapshot":
                    self.run_id = msg["run_id"]
                elif msg["type"] == "frame":
                    self.frames += 1
                    # acked as a browser does, else frames stop (docs/protocol.md, ack)
                    await ws.send(json.dumps({"type": "ack", "run_id": msg["run_id"],
                                              "seq": msg["seq"]}))
                elif msg["type"] == "error":
                    raise RuntimeError(f"student {self.i}: {msg}")


async def count_frames(students: list[Student], seconds: float) -> list[float]:
    before = [s.frames for s in students]
    await asyncio.sleep(seconds)
    return [(s.frames - b) / seconds for s, b in zip(students, before, strict=True)]


async def watch(ws_url: str, origin: str, info: dict, seconds: float) -> dict:
    headers = {"Cookie": f"sessionid={info['session']}", "Origin": origin}
    delays, last_seen, gaps, per_student = [], {}, [], {}
    messages = 0
    async with websockets.connect(f"{ws_url}/ws/dashboard/{info['join_id']}/",
                                  additional_headers=headers, max_size=2**22) as ws:
        end = time.monotonic() + seconds
        started = time.monotonic()
        while (left := end - time.monotonic()) > 0:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                break
            if msg["type"] != "digests":
                continue
            messages += 1
            now_wall, now = time.time(), time.monotonic()
            for d in msg["digests"]:
                delays.append((now_wall - d["at"]) * 1000)
                student = d["student"]
                per_student[student] = per_student.get(student, 0) + 1
                if student in last_seen:
                    gaps.append(now - last_seen[student])
                elif now - started > 2:  # first update after the start-up second or two
                    gaps.append(now - started)
                last_seen[student] = now
    return {"delays": delays, "gaps": gaps, "per_student": per_student,
            "messages": messages}


async def measure(url: str, info: dict, seconds: float) -> dict:
    ws_url, origin = url.replace("http://", "ws://"), url
    students = [Student(i, seat) for i, seat in enumerate(info["seats"])]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.play(ws_url, origin, info["assignment"], stop))
             for s in students]
    deadline = time.monotonic() + 30
    while any(s.frames == 0 for s in students):
        if time.monotonic() > deadline:
            raise RuntimeError("not every student's run started within 30 s")
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # let the runs settle
    without = await count_frames(students, seconds)
    counting = asyncio.create_task(count_frames(students, seconds))
    dashboard = await watch(ws_url, origin, info, seconds)
    with_dash = await counting
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"without": without, "with": with_dash, **dashboard}


def report(r: dict, args) -> None:
    n, secs = args.students, args.seconds
    updates = [r["per_student"].get(k, 0) / secs for k in r["per_student"]]
    missing = n - len(r["per_student"])
    ok = "PASS"
    rows = [
        ("students' frames/s, median (without dashboard)",
         f"{statistics.median(r['without']):.1f}", "15 (FRAME_HZ)", ""),
        ("students' frames/s, median (with dashboard)",
         f"{statistics.median(r['with']):.1f}", "same as without",
         ok if statistics.median(r["with"]) >= 0.9 * statistics.median(r["without"])
         else "FAIL"),
        ("students' frames/s, slowest (without / with)",
         f"{min(r['without']):.1f} / {min(r['with']):.1f}", "", ""),
        ("digest delay p50 / p95 / max",
         f"{percentile(r['delays'], 0.5):.0f} / {percentile(r['delays'], 0.95):.0f} / "
         f"{max(r['delays'], default=float('nan')):.0f} ms",
         "< 1000 ms (batched every 250 ms)",
         ok if percentile(r["delays"], 0.95) < 1000 else "FAIL"),
        ("gap between one student's updates p99 / max",
         f"{percentile(r['gaps'], 0.99):.2f} / {max(r['gaps'], default=float('nan')):.2f} s",
         "<= 1 s", ok if r["gaps"] and max(r["gaps"]) <= 1.0 and not missing else "FAIL"),
        ("updates per student per second (min / max)",
         f"{min(updates, default=0):.2f} / {max(updates, default=0):.2f}", "<= 2",
         ok if updates and max(updates) <= 2.05 else "FAIL"),
        ("students never updated", str(missing), "0", ok if not missing else "FAIL"),
        ("dashboard messages/s", f"{r['messages'] / secs:.1f}", "about 4 (one batch each 0.25 s)",
         ""),
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{n} students, one dashboard, {secs:g} s per phase, one Daphne process "
          f"(simulations in-process); {os.cpu_count()} CPUs, load average {load}\n")
    table(["measure", "value", "target", ""], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with live_server(**ONE_ADDRESS_FOR_ALL, PLAYGROUND_MAX_RUNS=str(args.students + 10),
                     PLAYGROUND_GRADER="worker") as (url, env):
        info = set_up(env, args.students)
        result = asyncio.run(measure(url, info, args.seconds))
    report(result, args)


if __name__ == "__main__":
    main()
