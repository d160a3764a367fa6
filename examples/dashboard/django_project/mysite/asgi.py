"""The site's ASGI application: Django, with the activejob dashboard at /admin/jobs/
for staff users logged in to Django (its session cookie and users).

Run it with ``uvicorn mysite.asgi:application``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
django_app = get_asgi_application()  # first: sets Django up (settings, apps, activejob)

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from activejob.dashboard import create_app  # noqa: E402


def is_staff(request: Request) -> bool:
    """Django's own login decides: the session cookie must name an active staff user.
    A plain function: the dashboard runs it on a worker thread, where the ORM may run."""
    engine = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"])
    django_request = HttpRequest()
    django_request.session = engine.SessionStore(request.cookies.get(settings.SESSION_COOKIE_NAME))
    user = get_user(django_request)
    return bool(user.is_active and user.is_staff)


dashboard = create_app(None, auth=is_staff)  # None: the adapter settings.ACTIVEJOB names

application = Starlette(
    routes=[Mount("/admin/jobs", app=dashboard), Mount("/", app=django_app)],
)
