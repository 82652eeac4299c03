"""The one place that decides who may do what: to runs, scenarios and run links.

Anonymous people own what they save through a workspace secret: a random value in an
HttpOnly cookie, stored server-side only as its SHA-256. Signing in moves the workspace's
scenarios to the account (`claim_workspace`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

WORKSPACE_COOKIE = "sdp_workspace"
WORKSPACE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


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


def owner_token_hash(token: str) -> str:
    """What a run record in Redis keeps of the owner token (PLAYGROUND_RUNNER=workers)."""
    return hashlib.sha256(token.encode()).hexdigest()


def may_control_record(token_hash: str | None, token: str | None) -> bool:
    """`may_control` for a run driven by a worker: its record holds the token's hash."""
    return bool(token and token_hash) and \
        hmac.compare_digest(owner_token_hash(token), token_hash)


# -- workspaces (anonymous ownership) ---------------------------------------------------------
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def workspace_of(request: HttpRequest) -> str:
    """The SHA-256 of this browser's workspace secret (one created by this very request
    counts), or "" if it has none yet."""
    secret = (request.COOKIES.get(WORKSPACE_COOKIE, "")
              or getattr(request, "_new_workspace_secret", ""))
    if not secret or len(secret) > 64:
        return ""
    return _digest(secret)


def ensure_workspace(request: HttpRequest) -> str:
    """The browser's workspace, creating one for a first save. The new secret is kept on the
    request until `remember_workspace` puts it in the response's cookie."""
    current = workspace_of(request)
    if current:
        return current
    secret = getattr(request, "_new_workspace_secret", None) or secrets.token_urlsafe(24)
    request._new_workspace_secret = secret
    return _digest(secret)


def remember_workspace(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    secret = getattr(request, "_new_workspace_secret", None)
    if secret:
        response.set_cookie(WORKSPACE_COOKIE, secret, max_age=WORKSPACE_MAX_AGE_S,
                            httponly=True, samesite="Lax",
                            secure=not settings.DEBUG)
    return response


# -- scenarios ---------------------------------------------------------------------------------
def owns(request: HttpRequest, obj) -> bool:
    """Does this request act for the owner of a scenario or run link?"""
    return _owns(getattr(request, "user", None), workspace_of(request), obj)


def _owns(user, workspace: str, obj) -> bool:
    if obj.owner_id is not None:
        return bool(user and user.is_authenticated and user.pk == obj.owner_id)
    return bool(workspace and obj.workspace) and hmac.compare_digest(workspace, obj.workspace)


def may_view_scenario(request: HttpRequest, scenario) -> bool:
    """Anyone holding a share id may view (the id is the secret of a share link)."""
    return scenario is not None


def may_edit_scenario(request: HttpRequest, scenario) -> bool:
    """Only the owner changes, renames, restores or deletes; built-in lessons are read-only."""
    return scenario is not None and scenario.lesson_slug is None and owns(request, scenario)


# -- co-editing (playground/coedit/) ----------------------------------------------------------
OWNER, EDITOR, VIEWER = "owner", "editor", "viewer"


def new_edit_token() -> str:
    """192 random bits: an edit link cannot be guessed."""
    return secrets.token_urlsafe(24)


def may_share_edit_link(request: HttpRequest, scenario) -> bool:
    """Only the owner makes, shows or revokes a design's edit link."""
    return may_edit_scenario(request, scenario)


def coedit_role(scope: dict, scenario, edit_token: str | None) -> str | None:
    """What a co-editing socket may do in a design's room: its owner (by account or
    workspace cookie) and the holders of its current edit link edit, anyone holding its
    share id watches, and a revoked or wrong edit token gets nothing."""
    if scenario is None or scenario.lesson_slug is not None:
        return None
    if edit_token is not None:
        current = scenario.edit_token
        return EDITOR if current and hmac.compare_digest(edit_token, current) else None
    cookie = scope.get("cookies", {}).get(WORKSPACE_COOKIE, "")
    workspace = _digest(cookie) if cookie and len(cookie) <= 64 else ""
    return OWNER if _owns(scope.get("user"), workspace, scenario) else VIEWER


def may_change_in_room(role: str | None) -> bool:
    return role in (OWNER, EDITOR)


def may_steer_shared_run(role: str | None) -> bool:
    """A co-edited design's shared run (playground/coedit/sharedrun.py): those who may edit
    the design share the runs they start and steer the shared one; viewers watch it. Asked
    at every message, so an editor whose link was revoked steers no more."""
    return may_change_in_room(role)


def owned_scenarios(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """The scenarios this request may list: its account's, or its workspace's."""
    user = getattr(request, "user", None)
    mine = Q(pk__in=[])
    if user and user.is_authenticated:
        mine |= Q(owner=user)
    workspace = workspace_of(request)
    if workspace:
        mine |= Q(owner__isnull=True, workspace=workspace)
    return queryset.filter(mine, lesson_slug__isnull=True)


def set_owner(request: HttpRequest, obj) -> None:
    """Make the requester the owner of a new scenario or run link."""
    user = getattr(request, "user", None)
    if user and user.is_authenticated:
        obj.owner = user
        obj.workspace = ""
    else:
        obj.owner = None
        obj.workspace = ensure_workspace(request)


def claim_workspace(request: HttpRequest, user) -> int:
    """On sign-in: the anonymous workspace's scenarios and run links move to the account."""
    from ..models import RunLink, Scenario

    workspace = workspace_of(request)
    if not workspace:
        return 0
    moved = Scenario.objects.filter(owner__isnull=True, workspace=workspace,
                                    lesson_slug__isnull=True).update(owner=user, workspace="")
    RunLink.objects.filter(owner__isnull=True, workspace=workspace).update(owner=user,
                                                                            workspace="")
    return moved


# -- run links ---------------------------------------------------------------------------------
def may_view_run_link(record) -> bool:
    """Anyone holding a run link's id may replay it (the id is the link's secret)."""
    return record is not None


# -- classrooms --------------------------------------------------------------------------------
SEATS_COOKIE = "sdp_seats"  # signed: the keys of the classroom seats this browser holds
SEATS_SALT = "playground.seats"
MAX_SEATS_PER_BROWSER = 20


def seat_keys(cookies: dict[str, str]) -> list[str]:
    """The seat keys in a request's (or websocket scope's) signed seats cookie."""
    try:
        value = signing.Signer(salt=SEATS_SALT).unsign(cookies.get(SEATS_COOKIE, ""))
    except signing.BadSignature:
        return []
    return [k for k in value.split(",") if k][:MAX_SEATS_PER_BROWSER]


def remember_seat(request: HttpRequest, response: HttpResponse, key: str) -> HttpResponse:
    keys = [key] + [k for k in seat_keys(request.COOKIES) if k != key]
    value = signing.Signer(salt=SEATS_SALT).sign(",".join(keys[:MAX_SEATS_PER_BROWSER]))
    response.set_cookie(SEATS_COOKIE, value, max_age=WORKSPACE_MAX_AGE_S, httponly=True,
                        samesite="Lax", secure=not settings.DEBUG)
    return response


def may_teach(user, classroom) -> bool:
    """Instructors of a classroom see its dashboard, roster, every design and the grades."""
    return bool(user and user.is_authenticated) and \
        classroom.instructors.filter(pk=user.pk).exists()


def seat_of(request: HttpRequest, classroom):
    """This requester's seat in the classroom (account or signed cookie), or None. A removed
    student has no seat."""
    return find_seat(getattr(request, "user", None), seat_keys(request.COOKIES), classroom)


def find_seat(user, keys: list[str], classroom):
    """`seat_of` for a websocket: its scope's user and seat keys."""
    seats = classroom.students.filter(removed=False)
    if user and user.is_authenticated:
        seat = seats.filter(user=user).first()
        if seat is not None:
            return seat
    return seats.filter(key__in=keys).first() if keys else None


def may_see_work(request: HttpRequest, work) -> bool:
    """A student's design: its author and the instructors; classmates only once the deadline
    has passed and the assignment allows it."""
    from playground.classrooms.services import past_deadline

    assignment = work.assignment
    classroom = assignment.classroom
    if may_teach(getattr(request, "user", None), classroom):
        return True
    seat = seat_of(request, classroom)
    if seat is None:
        return False
    if seat.pk == work.student_id:
        return True
    return assignment.peers_visible_after_deadline and past_deadline(assignment)


# -- lectures (playground/coedit/lecture.py) ----------------------------------------------------
def may_start_lecture(user, classroom, scenario) -> bool:
    """An instructor of the classroom presents a design their account owns (not a lesson)."""
    return scenario is not None and scenario.lesson_slug is None and \
        _owns(user, "", scenario) and may_teach(user, classroom)


def may_see_lecture(request: HttpRequest, classroom) -> bool:
    """Whether a lecture runs in a classroom, and which: its instructors and students know."""
    return may_teach(getattr(request, "user", None), classroom) or \
        seat_of(request, classroom) is not None


def lecture_role(user, keys: list[str], lecture) -> tuple[str | None, object | None]:
    """A socket's role in a lecture's room, and its student seat: the presenter (while they
    still teach the class) leads as the owner; another instructor watches; a student of the
    class watches, or edits while holding the pen (`pen_role`); nobody else gets in."""
    classroom = lecture.classroom
    if may_teach(user, classroom):
        return (OWNER if user.pk == lecture.presenter_id else VIEWER), None
    seat = find_seat(user, keys, classroom)
    if seat is None:
        return None, None
    return pen_role(lecture.pen.filter(pk=seat.pk).exists()), seat


def pen_role(holds_pen: bool) -> str:
    """A student in a lecture edits while holding the pen, and only watches once it is
    taken back (at once: playground/coedit/lecture.py)."""
    return EDITOR if holds_pen else VIEWER


def may_present(role: str | None) -> bool:
    """Whose view (viewport, selection) a lecture's students follow: its presenter's."""
    return role == OWNER


def may_hand_pen(user, lecture) -> bool:
    """The instructors of a lecture's classroom hand its students the pen and take it back."""
    return may_teach(user, lecture.classroom)
