"""A Content Security Policy on every response: the front end is ES modules and stylesheets
from this origin only, so injected markup can neither run script nor load anything."""

from django.conf import settings


def policy_header(**overrides: str) -> str:
    """The policy of settings.CONTENT_SECURITY_POLICY, with some directives replaced
    (keyword names use _ for -: frame_ancestors="*")."""
    directives = settings.CONTENT_SECURITY_POLICY | {
        name.replace("_", "-"): value for name, value in overrides.items()}
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def content_security_policy(get_response):
    policy = policy_header()

    def middleware(request):
        response = get_response(request)
        response.setdefault("Content-Security-Policy", policy)
        return response

    return middleware
