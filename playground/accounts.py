"""Accounts: sign-up, log-in, log-out and password reset with django.contrib.auth.

Signing in (or up) moves what the browser saved anonymously to the account
(permissions.claim_workspace, on the user_logged_in signal). Sign-up and log-in attempts
are rate limited per client.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth import views as auth
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import permissions
from .ratelimit import rate_limited


@receiver(user_logged_in, dispatch_uid="playground.claim_workspace")
def claim_on_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None:
        permissions.claim_workspace(request, user)


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@rate_limited("signup", methods=("POST",))
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


urlpatterns = [
    path("signup", signup, name="signup"),
    path("login", rate_limited("login", methods=("POST",))(
        auth.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("password-reset", rate_limited("login", methods=("POST",))(
        auth.PasswordResetView.as_view()), name="password_reset"),
    path("password-reset/sent", auth.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("reset/<uidb64>/<token>", auth.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("reset/done", auth.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
