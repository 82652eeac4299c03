"""Classroom pages: instructors' classes and assignments, joining, the students' list.

Every check of who may see what is a call into playground/accounts/permissions.py.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from playground import ratelimit
from playground.accounts import permissions
from playground.coedit import lecture as lectures
from playground.models import Scenario
from playground.pages import preview
from playground.pages.views import editor, error_page, page_data

from . import services
from .api import assignment_out
from .forms import AssignmentForm, ClassroomForm, JoinCodeForm, JoinNameForm
from .models import Assignment, Classroom, Lecture, Student, Work

MAX_PRESENTABLE = 50  # the instructor's designs offered to present, latest first


def _teaching(request: HttpRequest, join_id: str) -> Classroom:
    """The classroom, for one of its instructors; 404 for anyone else (no existence leak)."""
    classroom = get_object_or_404(Classroom, join_id=join_id)
    if not permissions.may_teach(request.user, classroom):
        raise Http404("no such classroom")
    return classroom


@login_required
@require_http_methods(["GET", "POST"])
def classes(request: HttpRequest) -> HttpResponse:
    form = ClassroomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        classroom = Classroom.objects.create(name=form.cleaned_data["name"])
        classroom.instructors.add(request.user)
        return redirect("classroom", join_id=classroom.join_id)
    return render(request, "classrooms/classes.html", {
        "form": form, "classrooms": request.user.teaching.all()})


@login_required
def classroom(request: HttpRequest, join_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    join_url = request.build_absolute_uri(reverse("join-classroom", args=[room.join_id]))
    return render(request, "classrooms/classroom.html", {
        "classroom": room, "join_url": join_url,
        "students": room.students.filter(removed=False),
        "assignments": room.assignments.all()})


@login_required
@require_POST
def remove_student(request: HttpRequest, join_id: str, student_id: int) -> HttpResponse:
    room = _teaching(request, join_id)
    services.remove(get_object_or_404(Student, pk=student_id, classroom=room))
    return redirect("classroom", join_id=room.join_id)


@login_required
@require_http_methods(["GET", "POST"])
def new_assignment(request: HttpRequest, join_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    form = AssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        assignment = Assignment.objects.create(
            classroom=room, title=data["title"], instructions=data["instructions"],
            brief=data["brief"], goals=form.goals(), deadline=data["deadline"],
            peers_visible_after_deadline=data["peers_visible_after_deadline"])
        return redirect("assignment-results", join_id=room.join_id,
                        share_id=assignment.share_id)
    return render(request, "classrooms/new_assignment.html", {"classroom": room, "form": form})


@login_required
def assignment_results(request: HttpRequest, join_id: str, share_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    assignment = get_object_or_404(Assignment, share_id=share_id, classroom=room)
    return render(request, "classrooms/results.html", {
        "classroom": room, "assignment": assignment,
        "leaderboard": services.leaderboard(assignment),
        "student_url": request.build_absolute_uri(
            reverse("assignment-work", args=[assignment.share_id]))})


@login_required
def grades_csv(request: HttpRequest, join_id: str, share_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    assignment = get_object_or_404(Assignment, share_id=share_id, classroom=room)
    response = HttpResponse(services.grades_csv(assignment), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="grades-{assignment.pk}.csv"'
    return response


# -- students ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def join_by_code(request: HttpRequest) -> HttpResponse:
    form = JoinCodeForm(request.POST or request.GET or None)
    # A code can be tried with GET ?code= too. Only wrong codes count: a class typing the
    # right one from one address never reaches the limit, a guesser does.
    if form.is_bound and (wait := ratelimit.wait_s("join", request, count=False)):
        return ratelimit.too_many(request, wait, "join")
    if form.is_bound and form.is_valid():
        room = Classroom.objects.filter(code=form.cleaned_data["code"]).first()
        if room is not None:
            return redirect("join-classroom", join_id=room.join_id)
        ratelimit.count("join", request)
        form.add_error("code", "No classroom has that code. Check it with your instructor.")
    return render(request, "classrooms/join_code.html", {"form": form})


@require_http_methods(["GET", "POST"])
def join_classroom(request: HttpRequest, join_id: str) -> HttpResponse:
    room = get_object_or_404(Classroom, join_id=join_id)
    if permissions.seat_of(request, room) is not None:
        return redirect("student-classroom", join_id=room.join_id)
    initial = {"display_name": request.user.get_username()} \
        if request.user.is_authenticated else None
    form = JoinNameForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        # Counted per classroom, not per address: its students share one.
        if wait := ratelimit.wait_s("join_classroom", request, who=f"classroom:{room.pk}"):
            return ratelimit.too_many(request, wait, "join_classroom")
        try:
            seat = services.join(room, form.cleaned_data["display_name"], request.user)
        except services.ClassroomError as exc:
            for error in exc.errors:  # "display_name: ..." is about the name field
                text = error.removeprefix("display_name: ")
                form.add_error("display_name" if text != error else None,
                               f"{text[:1].upper()}{text[1:]}.")
        except IntegrityError:  # the account took its seat in another tab meanwhile
            return redirect("student-classroom", join_id=room.join_id)
        else:
            response = redirect("student-classroom", join_id=room.join_id)
            return permissions.remember_seat(request, response, seat.key)
    return render(request, "classrooms/join_name.html", {"classroom": room, "form": form})


def student_classroom(request: HttpRequest, join_id: str) -> HttpResponse:
    room = get_object_or_404(Classroom, join_id=join_id)
    seat = permissions.seat_of(request, room)
    if seat is None:
        return redirect("join-classroom", join_id=room.join_id)
    rows = []
    for assignment in room.assignments.all():
        best = services.best_submissions(assignment).get(seat.pk)
        closed = services.past_deadline(assignment)
        peers = assignment.works.exclude(student=seat).filter(student__removed=False) \
            .select_related("student") if closed and assignment.peers_visible_after_deadline \
            else []
        rows.append({"assignment": assignment, "best": best, "closed": closed,
                     "peers": peers})
    return render(request, "classrooms/student.html", {
        "classroom": room, "seat": seat, "rows": rows,
        "lecture": Lecture.objects.filter(classroom=room).select_related("scenario").first()})


def _seat_for(request: HttpRequest, assignment: Assignment) -> Student | None:
    return permissions.seat_of(request, assignment.classroom)


@ensure_csrf_cookie  # the editor saves and submits with X-CSRFToken
def assignment_work(request: HttpRequest, share_id: str) -> HttpResponse:
    """The editor on the student's own copy, with the goals beside the canvas."""
    assignment = get_object_or_404(Assignment.objects.select_related("classroom"),
                                   share_id=share_id)
    seat = _seat_for(request, assignment)
    if seat is None:
        return redirect("join-classroom", join_id=assignment.classroom.join_id)
    work = services.work_of(assignment, seat)
    data = page_data(request, "assignment")
    data["assignment"] = assignment_out(assignment, seat, work)
    return editor(request, data)


@login_required
def dashboard(request: HttpRequest, join_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    drill = {a.share_id: services.drill_targets(a) for a in room.assignments.all()}
    return render(request, "classrooms/dashboard.html", {
        "classroom": room, "lecture": Lecture.objects.filter(classroom=room).first(),
        "designs": permissions.owned_scenarios(request, Scenario.objects.order_by(
            "-updated_at")).only("share_id", "title")[:MAX_PRESENTABLE],
        "dashboard": {"join_id": room.join_id, "name": room.name, "drill": drill}})


# -- lectures (playground/coedit/lecture.py) ----------------------------------------------------
@login_required
@require_POST
def start_lecture(request: HttpRequest, join_id: str) -> HttpResponse:
    room = _teaching(request, join_id)
    try:
        started = lectures.start(request.user, room, request.POST.get("scenario", ""))
    except lectures.LectureError:
        return redirect("dashboard", join_id=room.join_id)
    return redirect("lecture", lecture_id=started.lecture_id)


@login_required
@require_POST
def end_lecture(request: HttpRequest, join_id: str) -> HttpResponse:
    lectures.end(_teaching(request, join_id))
    return redirect("dashboard", join_id=join_id)


@require_GET
@ratelimit.rate_limited("lecture_state", methods=("GET",))
def lecture_state(request: HttpRequest, join_id: str) -> HttpResponse:
    """The lecture running in a classroom now, or null: what its classroom page and its
    dashboard poll (static/playground/lecture-card.js), so that a lecture started or ended
    while they are open shows there."""
    room = Classroom.objects.filter(join_id=join_id).first()
    if room is None or not permissions.may_see_lecture(request, room):
        # the same answer whether the classroom exists or not
        return JsonResponse({"errors": ["no such classroom, or you have no seat in it"]},
                            status=404)
    found = Lecture.objects.filter(classroom=room).select_related("scenario").first()
    response = JsonResponse({"lecture": found and {
        "id": found.lecture_id, "url": reverse("lecture", args=[found.lecture_id]),
        "title": found.scenario.title}})
    response["Cache-Control"] = "no-store"
    return response


@ensure_csrf_cookie
def lecture_page(request: HttpRequest, lecture_id: str) -> HttpResponse:
    """The editor joined to a lecture's room: the presenter leads, the students follow."""
    found = Lecture.objects.select_related("classroom", "scenario").filter(
        lecture_id=lecture_id).first()
    if found is None:
        return error_page(request, 404, "Lecture not found", "This lecture has ended, or the "
                          "link is incomplete.")
    role, seat = permissions.lecture_role(request.user, permissions.seat_keys(request.COOKIES),
                                          found)
    if role is None:
        return redirect("join-classroom", join_id=found.classroom.join_id)
    presenter = permissions.may_present(role)
    room = found.classroom
    data = page_data(request, "scenario", found.scenario)
    data["coedit"] = {
        "socket": f"/ws/coedit/l/{found.lecture_id}/", "edit_link": None,
        "name": seat.display_name if seat else None, "gone": "The lecture is over",
        "lecture": {"presenter": presenter, "classroom": room.name,
                    "back": reverse("dashboard", args=[room.join_id]) if presenter
                    else reverse("student-classroom", args=[room.join_id])}}
    return editor(request, data)


def work_preview(request: HttpRequest, work_id: int) -> HttpResponse:
    """A student's latest design as a picture: for the instructors' dashboard, its author,
    and classmates once the assignment shows designs after its deadline."""
    work = Work.objects.select_related("assignment__classroom").filter(pk=work_id).first()
    if work is None or not permissions.may_see_work(request, work):
        raise Http404("no such design")
    return HttpResponse(preview.svg(work.document), content_type="image/svg+xml")
