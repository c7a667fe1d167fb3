"""Django test app in one module (settings, views, urls) for hotpath's web tests, run under Gunicorn."""
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

from workload import crunch_heavy, crunch_light

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="hotpath-tests-only",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def light(request):
    return HttpResponse(str(crunch_light()))


def heavy(request):
    return HttpResponse(str(crunch_heavy()))


def user(request, user_id):
    return HttpResponse(str(crunch_light() + user_id))


urlpatterns = [
    path("light", light),
    path("heavy", heavy),
    path("users/<int:user_id>", user),
]

application = get_wsgi_application()
