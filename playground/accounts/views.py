"""Accounts: sign-up, log-in, log-out and password reset with django.contrib.auth.

Signing in (or up) moves what the browser saved anonymously to the account
(permissions.claim_workspace, on the user_logged_in signal).

Limits (settings.PLAYGROUND_RATE_LIMITS, docs/api.md), sized so that a class behind one
address signs up and logs in: accounts made per client address; failed log-ins per address
(a password sprayer), and per account and address django-axes's lockout (a guesser at one
account), so the right password from that address still works for everyone else.
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from .. import ratelimit
from ..ratelimit import rate_limited
from . import permissions


@receiver(user_logged_in, dispatch_uid="playground.claim_workspace")
def claim_on_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None:
        permissions.claim_workspace(request, user)


@receiver(user_login_failed, dispatch_uid="playground.count_failed_login")
def count_failed_login(sender, credentials, request: HttpRequest | None = None,
                       **kwargs) -> None:
    """Per address; not tries at an account already locked out, so that hammering at one
    does not lock everyone on the address out."""
    if request is not None and not AxesProxyHandler.is_locked(request, credentials):
        ratelimit.count("login", request)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes's lockout check for log-ins that come with a request (the log-in form:
    every one a client can make). One without (Client.login in tests, a shell) has no client
    address to count, and goes on to the next backend instead of failing."""

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes's answer to a log-in it locked out (AXES_LOCKOUT_CALLABLE)."""
    wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    page = render(request, "playground/error.html", {
        "title": "Slow down",
        "message": f"Too many wrong passwords for this account from your network; try "
                   f"again in {math.ceil(wait / 60)} minutes, or reset your password."},
        status=429)
    page["Retry-After"] = str(wait)
    return page


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@rate_limited("signup", methods=("POST",), counted_in_view=True)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        ratelimit.count("signup", request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


urlpatterns = [
    path("signup", signup, name="signup"),
    path("login", rate_limited("login", methods=("POST",), counted_in_view=True)(
        auth.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("password-reset", rate_limited("password_reset", methods=("POST",))(
        auth.PasswordResetView.as_view()), name="password_reset"),
    path("password-reset/sent", auth.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("reset/<uidb64>/<token>", auth.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("reset/done", auth.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
