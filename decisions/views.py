from django.shortcuts import render


def queue(request):
    return render(request, "decisions/queue.html", {})


def data(request):
    return render(request, "decisions/data.html", {})
