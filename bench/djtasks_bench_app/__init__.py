"""The Django project of bench/django_tasks_bench.py: one no-op ``@task``, two task
backends on the same PostgreSQL database (ours and django-tasks-db's)."""
