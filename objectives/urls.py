from django.urls import path

from objectives import views

app_name = "objectives"
urlpatterns = [
    path("guardrails/", views.guardrails, name="guardrails"),
    path("objectives/", views.objectives, name="objectives"),
]
