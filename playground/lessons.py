"""The built-in lessons: docs/lessons/NN-slug.json, kept in step with Scenario rows.

Each file is one v1 document; NN is its place in the course and the slug names it. The
app's set-up (a post_migrate receiver, see apps.py) and `manage.py load_lessons` call
load_lessons(), which creates the row of a new file, updates the row of a changed one and
deletes the rows whose file is gone. It only ever touches lesson rows (lesson_slug set):
saved user scenarios are never read or written here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

from simulations import ScenarioError, load

LESSONS_DIR = Path(settings.BASE_DIR) / "docs" / "lessons"
FILE_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.json$")


class LessonError(Exception):
    """A lesson file that cannot be loaded: its name or its document is wrong."""


@dataclass(frozen=True)
class Lesson:
    order: int
    slug: str
    title: str
    description: str
    document: dict[str, Any]


def read_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson file of `directory` (docs/lessons) in course order, each checked by the
    engine's validator. A broken file stops the load: a lesson must never vanish silently."""
    directory = LESSONS_DIR if directory is None else directory
    lessons, problems = [], []
    for path in sorted(directory.glob("*.json")):
        match = FILE_NAME.match(path.name)
        if match is None:
            problems.append(f"{path.name}: the name must be NN-slug.json (slug: a-z, 0-9, -)")
            continue
        try:
            raw = path.read_bytes()
            scenario = load(raw)
        except (OSError, ScenarioError) as exc:
            errors = getattr(exc, "errors", [str(exc)])
            problems.extend(f"{path.name}: {error}" for error in errors)
            continue
        lessons.append(Lesson(order=int(match.group(1)), slug=match.group(2),
                              title=scenario.name, description=scenario.description,
                              document=json.loads(raw)))
    slugs = [lesson.slug for lesson in lessons]
    problems.extend(f"{slug}: more than one lesson file has this slug"
                    for slug in sorted({s for s in slugs if slugs.count(s) > 1}))
    if problems:
        raise LessonError("; ".join(problems))
    return lessons


def load_lessons(directory: Path | None = None, using: str = DEFAULT_DB_ALIAS,
                 model=None) -> dict[str, int]:
    """Make the lesson rows match the lesson files; returns how many rows were created,
    updated, deleted and left unchanged. `model` is the Scenario model to use (a migration
    state's historical one when called from post_migrate)."""
    if model is None:
        from .models import Scenario as model
    lessons = read_lessons(directory)
    counts = dict.fromkeys(("created", "updated", "deleted", "unchanged"), 0)
    rows = model.objects.using(using)
    with transaction.atomic(using=using):
        existing = {row.lesson_slug: row for row in
                    rows.select_for_update().filter(lesson_slug__isnull=False)}
        for lesson in lessons:
            fields = {"title": lesson.title, "description": lesson.description,
                      "document": lesson.document, "lesson_order": lesson.order}
            row = existing.pop(lesson.slug, None)
            if row is None:
                rows.create(lesson_slug=lesson.slug, owner=None, workspace="", **fields)
                counts["created"] += 1
            elif any(getattr(row, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(row, name, value)
                # Lessons are read-only to users, so no history is kept; the version still
                # moves on, so that a page showing the old document can tell.
                row.version += 1
                row.save(using=using)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if existing:
            counts["deleted"] = len(existing)
            rows.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return counts


def load_after_migrate(sender, using=DEFAULT_DB_ALIAS, apps=None, verbosity=1, stdout=None,
                       **kwargs) -> None:
    """post_migrate receiver: load the lessons into the database just migrated, with the
    Scenario model of the migration state (absent when the app was migrated to zero)."""
    try:
        model = apps.get_model("playground", "Scenario") if apps else None
    except LookupError:
        return
    counts = load_lessons(using=using, model=model)
    changed = {k: v for k, v in counts.items() if v and k != "unchanged"}
    if verbosity >= 1 and changed and stdout is not None:
        stdout.write("Lessons: " + ", ".join(f"{v} {k}" for k, v in changed.items()) + "\n")
