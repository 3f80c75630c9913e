"""Data import pages (being built)."""

from django.http import Http404


def import_form(request):
    raise Http404


def import_run(request, pk: int):
    raise Http404
