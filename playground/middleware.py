"""A Content Security Policy on every response: the front end is ES modules and stylesheets
from this origin only, so injected markup can neither run script nor load anything."""

from django.conf import settings


def content_security_policy(get_response):
    policy = "; ".join(f"{k} {v}" for k, v in settings.CONTENT_SECURITY_POLICY.items())

    def middleware(request):
        response = get_response(request)
        response.setdefault("Content-Security-Policy", policy)
        return response

    return middleware
