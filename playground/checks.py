"""System checks of the playground's own settings (`manage.py check`; the deploy ones run
with `check --deploy`, docs/deploy.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def wildcard_host(app_configs, **kwargs) -> list[CheckWarning]:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [CheckWarning(
        "ALLOWED_HOSTS accepts any host ('*'): Django then trusts the Host header a client "
        "sends (links in password-reset mail, absolute URLs).",
        hint="Set DJANGO_ALLOWED_HOSTS to the site's host names, comma separated.",
        id="playground.W001")]


@register()
def body_limit(app_configs, **kwargs) -> list[Error]:
    from .api.jsonapi import MAX_BODY_BYTES

    if settings.PLAYGROUND_HTTP_MAX_BODY_BYTES >= MAX_BODY_BYTES:
        return []
    return [Error(
        f"PLAYGROUND_HTTP_MAX_BODY_BYTES ({settings.PLAYGROUND_HTTP_MAX_BODY_BYTES}) is below "
        f"the largest body the API takes ({MAX_BODY_BYTES}): the server would refuse "
        "documents the API accepts.",
        hint=f"Raise it to at least {MAX_BODY_BYTES}.", id="playground.E001")]


@register()
def fence(app_configs, **kwargs) -> list[Error]:
    """The framework releases installed are those playground/fenced/ was written for, and
    every private name it reaches is there: an error to read, where an upgrade would
    otherwise break a limit silently or crash at the first socket."""
    from .fenced import contract

    hint = ("Install requirements.txt's pins, or check the new release against "
            "tests/web/test_fenced_*.py and update playground/fenced/ with the pins.")
    return [Error(problem, hint=hint, id="playground.E002")
            for problem in contract.version_problems()] + \
        [Error(problem, hint=hint, id="playground.E003") for problem in contract.name_problems()]
