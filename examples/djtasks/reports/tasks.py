try:
    from django.tasks import task  # Django >= 6.0
except ImportError:
    from django_tasks import task  # older Django: pip install django-tasks


@task(priority=10)  # Django's scale: -100..100, larger runs first
def count_words(text: str) -> dict[str, int]:
    words = text.split()
    return {"words": len(words), "distinct": len(set(words))}
