from django.urls import path

from decisions import views

app_name = "decisions"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("data/", views.data, name="data"),
]
