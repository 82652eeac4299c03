from django.apps import AppConfig


class ClassroomsConfig(AppConfig):
    name = "playground.classrooms"
    label = "classrooms"
    default_auto_field = "django.db.models.BigAutoField"
