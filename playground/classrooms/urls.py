from django.urls import path

from . import views

urlpatterns = [
    path("classes", views.classes, name="classes"),
    path("classes/<str:join_id>", views.classroom, name="classroom"),
    path("classes/<str:join_id>/dashboard", views.dashboard, name="dashboard"),
    path("classes/<str:join_id>/lecture", views.start_lecture, name="start-lecture"),
    path("classes/<str:join_id>/lecture/end", views.end_lecture, name="end-lecture"),
    path("classes/<str:join_id>/students/<int:student_id>/remove", views.remove_student,
         name="remove-student"),
    path("classes/<str:join_id>/assignments/new", views.new_assignment, name="new-assignment"),
    path("classes/<str:join_id>/assignments/<str:share_id>", views.assignment_results,
         name="assignment-results"),
    path("classes/<str:join_id>/assignments/<str:share_id>/grades.csv", views.grades_csv,
         name="grades-csv"),
    path("works/<int:work_id>/preview.svg", views.work_preview, name="work-preview"),
    path("join", views.join_by_code, name="join"),
    path("join/<str:join_id>", views.join_classroom, name="join-classroom"),
    path("c/<str:join_id>", views.student_classroom, name="student-classroom"),
    path("c/<str:join_id>/lecture", views.lecture_state, name="lecture-state"),
    path("a/<str:share_id>", views.assignment_work, name="assignment-work"),
    path("l/<str:lecture_id>", views.lecture_page, name="lecture"),
]
