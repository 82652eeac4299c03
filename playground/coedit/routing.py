from django.urls import path

from .consumer import CoeditConsumer
from .lecture import LectureConsumer

websocket_urlpatterns = [
    path("ws/coedit/s/<str:share_id>/", CoeditConsumer.as_asgi()),
    path("ws/coedit/e/<str:token>/", CoeditConsumer.as_asgi()),
    path("ws/coedit/l/<str:lecture_id>/", LectureConsumer.as_asgi()),
]
