"""The task both backends run."""

try:
    from django.tasks import task
except ImportError:
    from django_tasks import task


@task()
def noop() -> None:
    return None
