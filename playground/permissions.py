"""The one place that decides who may do what to a run, and how groups are named."""

from __future__ import annotations

import hmac
import secrets


def new_run_id() -> str:
    """128 random bits: a run link cannot be guessed or enumerated."""
    return secrets.token_urlsafe(16)


def new_owner_token() -> str:
    return secrets.token_urlsafe(24)


def run_group(run_id: str) -> str:
    return f"run.{run_id}"


def may_watch(run) -> bool:
    """Anyone holding a run's id may watch it (the id is the secret of a run link)."""
    return run is not None


def may_control(run, token: str | None) -> bool:
    """Only the holder of the owner token (the tab that started the run) steers it."""
    return bool(token) and hmac.compare_digest(token, run.owner_token)
