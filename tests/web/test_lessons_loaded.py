"""The built-in lessons are loaded by the app's set-up: after `migrate`, and by
`manage.py load_lessons`, idempotently, never touching a user's scenarios."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from playground.lessons import LESSONS_DIR, LessonError, load_lessons, read_lessons
from playground.models import Scenario

FILES = sorted(LESSONS_DIR.glob("*.json"))


def lesson_rows():
    return Scenario.objects.filter(lesson_slug__isnull=False).order_by("lesson_order")


@pytest.fixture
def lessons_dir(tmp_path):
    """A copy of docs/lessons to change at will."""
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.fixture
def mine(db, design):
    """A user's saved scenario (anonymous workspace)."""
    return Scenario.objects.create(document=design, title=design["name"], workspace="w" * 64)


def test_migrate_loads_every_lesson_file(db):
    Scenario.objects.filter(lesson_slug__isnull=False).delete()
    call_command("migrate", verbosity=0)  # nothing to apply; post_migrate still runs
    rows = list(lesson_rows())
    assert len(rows) == len(FILES) >= 15
    for row, path in zip(rows, FILES, strict=True):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert path.name == f"{row.lesson_order:02d}-{row.lesson_slug}.json"
        assert (row.title, row.description, row.document) == (doc["name"], doc["description"],
                                                              doc)
        assert row.owner is None and row.workspace == ""


def test_loading_again_changes_nothing(db, mine):
    load_lessons()
    before = {r.lesson_slug: (r.pk, r.share_id, r.version, r.updated_at) for r in lesson_rows()}
    counts = load_lessons()
    assert counts == {"created": 0, "updated": 0, "deleted": 0, "unchanged": len(FILES)}
    after = {r.lesson_slug: (r.pk, r.share_id, r.version, r.updated_at) for r in lesson_rows()}
    assert after == before  # same rows, same links: a share link to a lesson keeps working


def test_an_edited_file_updates_its_row_and_a_removed_one_goes(db, mine, lessons_dir):
    load_lessons(lessons_dir)
    first, second = sorted(lessons_dir.glob("*.json"))[:2]
    doc = json.loads(first.read_text(encoding="utf-8"))
    doc["name"] = "Renamed lesson"
    doc["components"][0]["params"]["rate_rps"] = 1
    first.write_text(json.dumps(doc), encoding="utf-8")
    second.unlink()
    old = Scenario.objects.get(lesson_slug=first.stem[3:])

    counts = load_lessons(lessons_dir)

    assert counts == {"created": 0, "updated": 1, "deleted": 1, "unchanged": len(FILES) - 2}
    row = Scenario.objects.get(lesson_slug=first.stem[3:])
    assert (row.pk, row.share_id) == (old.pk, old.share_id)
    assert row.title == "Renamed lesson" and row.document == doc
    assert row.version == old.version + 1
    assert not Scenario.objects.filter(lesson_slug=second.stem[3:]).exists()
    mine.refresh_from_db()
    assert mine.lesson_slug is None and mine.title == "Cache in front of a database"


def test_a_new_file_is_created_at_its_place_in_the_course(db, lessons_dir):
    load_lessons(lessons_dir)
    source = json.loads(FILES[0].read_text(encoding="utf-8"))
    source["name"] = "An extra lesson"
    (lessons_dir / "99-extra-lesson.json").write_text(json.dumps(source), encoding="utf-8")
    assert load_lessons(lessons_dir)["created"] == 1
    assert lesson_rows().last().lesson_slug == "extra-lesson"


def test_user_scenarios_are_never_touched(db, mine, tmp_path):
    before = Scenario.objects.values().get(pk=mine.pk)
    load_lessons()
    load_lessons(tmp_path)  # no lesson files at all: every lesson row goes
    assert not lesson_rows().exists()
    assert Scenario.objects.values().get(pk=mine.pk) == before


def test_a_broken_lesson_file_stops_the_load_and_names_the_problem(db, lessons_dir):
    load_lessons(lessons_dir)
    doc = json.loads(FILES[0].read_text(encoding="utf-8"))
    doc["components"][0]["params"]["rate_rps"] = -1
    (lessons_dir / FILES[0].name).write_text(json.dumps(doc), encoding="utf-8")
    (lessons_dir / "Not A Lesson.json").write_text("{}", encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        read_lessons(lessons_dir)
    message = str(caught.value)
    assert f"{FILES[0].name}: components[0].params.rate_rps: must be >= 0" in message
    assert "Not A Lesson.json: the name must be NN-slug.json" in message
    with pytest.raises(LessonError):
        load_lessons(lessons_dir)
    assert lesson_rows().count() == len(FILES), "nothing changed"


def test_the_command_loads_and_reports(db):
    Scenario.objects.filter(lesson_slug__isnull=False).delete()
    out = StringIO()
    call_command("load_lessons", stdout=out)
    assert out.getvalue().strip() == \
        f"Lessons: {len(FILES)} created, 0 updated, 0 deleted, 0 unchanged"
    assert lesson_rows().count() == len(FILES)


def test_the_command_fails_clearly_on_a_broken_file(db, lessons_dir, monkeypatch):
    (lessons_dir / "01-x.json").write_text("not json", encoding="utf-8")
    monkeypatch.setattr("playground.lessons.LESSONS_DIR", lessons_dir)
    with pytest.raises(CommandError, match=r"lessons not loaded: 01-x\.json: "):
        call_command("load_lessons")


def test_the_gallery_lists_the_loaded_lessons_in_course_order(db, client):
    load_lessons()
    listed = client.get("/api/lessons").json()["results"]
    assert [x["slug"] for x in listed] == [path.stem[3:] for path in FILES]
    page = client.get("/lessons").content.decode()
    assert all(row.title.replace("'", "&#x27;") in page for row in lesson_rows())
