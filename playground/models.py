"""What the playground keeps: saved scenarios, their version history and shared runs.

A scenario's title and description are its v1 document's `name` and `description`: the
document is the one source of truth, the columns are copies for lists and search.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_share_id() -> str:
    """128 random bits: share and run links cannot be guessed or enumerated."""
    return secrets.token_urlsafe(16)


class Scenario(models.Model):
    share_id = models.CharField(max_length=32, unique=True, default=new_share_id,
                                editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    # Who may change it: a signed-in account, or (anonymous) the browser holding the
    # workspace secret whose SHA-256 is stored here. See permissions.py.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="scenarios")
    workspace = models.CharField(max_length=64, blank=True, db_index=True)
    # The secret of its edit link (co-editing, playground/coedit/), or None: no link. Apart
    # from share_id (the read-only link); the owner replaces or revokes it.
    edit_token = models.CharField(max_length=43, null=True, blank=True, unique=True,
                                  editable=False)
    forked_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="forks")
    # Built-in lessons of the gallery (docs/lessons), loaded by the app's set-up.
    lesson_slug = models.SlugField(max_length=80, null=True, blank=True, unique=True)
    lesson_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class ScenarioVersion(models.Model):
    """A scenario as it was before a save replaced it (number = its version then)."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    document = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["scenario", "number"],
                                               name="one_version_number_per_scenario")]


class RunLink(models.Model):
    """A run link: scenario + seed + the live run's command log, replayed exactly."""

    share_id = models.CharField(max_length=32, unique=True, default=new_share_id,
                                editable=False)
    scenario = models.ForeignKey(Scenario, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="run_links")
    title = models.CharField(max_length=200)
    document = models.JSONField()
    seed = models.BigIntegerField()
    commands = models.JSONField(default=list)
    until_s = models.FloatField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="run_links")
    workspace = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
