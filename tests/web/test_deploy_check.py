"""The production settings pass Django's deployment checklist, and refuse to start unsafe."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**clean, **env}, timeout=120)


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0",
                    DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                    DJANGO_ALLOWED_HOSTS="playground.example.com")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_does_not_start():
    result = manage("check", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="playground.example.com")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr
