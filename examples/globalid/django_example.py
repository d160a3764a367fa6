"""GlobalID with Django: a model instance passed to a job is loaded fresh when it runs.

Run it from anywhere: ``python examples/globalid/django_example.py``. A real project
has these settings in its settings module and runs ``activejob worker`` with
``DJANGO_SETTINGS_MODULE`` set and ``django.setup()`` called by an imported module.
"""

import atexit
import os
import shutil
import tempfile

import django
from django.conf import settings
from django.core.management import call_command

folder = tempfile.mkdtemp()  # a fresh folder for this run's two SQLite files,
atexit.register(shutil.rmtree, folder)  # removed when the script ends
os.chdir(folder)
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "shop.sqlite3"}},
    INSTALLED_APPS=["shop"],
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
)
django.setup()
call_command("migrate", run_syncdb=True, verbosity=0)  # creates the shop tables

from shop.jobs import ReceiptJob  # noqa: E402
from shop.models import Customer  # noqa: E402

import activejob  # noqa: E402
from activejob.worker import Worker  # noqa: E402

activejob.configure(app="shop", adapter="sqlite:///jobs.sqlite3")

ann = Customer.objects.create(email="ann@example.com")
bob = Customer.objects.create(email="bob@example.com")
ReceiptJob.perform_later(ann)  # the payload holds gid://shop/shop.Customer/1
ReceiptJob.perform_later(bob)
Customer.objects.filter(pk=ann.pk).update(email="ann@example.org")  # the job sees it
bob.delete()  # deleted before the job runs: the job is dropped

Worker(threads=1).run(burst=True)  # in production: activejob worker --import shop.jobs
