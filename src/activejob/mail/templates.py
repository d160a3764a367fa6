"""Bodies from templates: ``templates/<mailer_name>/<action>.txt`` and ``.html``,
rendered with Jinja2 (``pip install 'activejob[mail-templates]'``).

An action that calls ``self.mail()`` without ``text=`` or ``html=`` gets them
from these files, in the mailer's ``template_dir`` (by default the ``templates``
directory beside the module that defines the mailer). A template sees the
mailer's public attributes (``self.user = user`` in the action makes ``user``),
the ``context=`` given to ``mail()``, and ``mailer``. HTML is autoescaped;
an undefined name is an error.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from activejob.errors import ConfigurationError

__all__ = ["find_templates", "render"]

SUFFIXES = {"text": ".txt", "html": ".html"}
_environments: dict[Path, Any] = {}
_lock = threading.Lock()


def find_templates(directory: Path, mailer_name: str, action: str) -> dict[str, Path]:
    """The template files that exist for this action, by part (``text``, ``html``)."""
    found = {}
    for part, suffix in SUFFIXES.items():
        path = directory / mailer_name / f"{action}{suffix}"
        if path.is_file():
            found[part] = path
    return found


def render(
    directory: Path, files: Mapping[str, Path], context: Mapping[str, Any]
) -> dict[str, str]:
    """Render each template file with ``context``."""
    environment = _environment(directory)
    return {
        part: environment.get_template(path.relative_to(directory).as_posix()).render(context)
        for part, path in files.items()
    }


def _environment(directory: Path) -> Any:
    try:
        import jinja2
    except ImportError as exc:
        raise ConfigurationError(
            f"mail templates in {directory} need Jinja2: pip install 'activejob[mail-templates]'"
        ) from exc
    with _lock:
        if directory not in _environments:
            _environments[directory] = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(directory)),
                autoescape=jinja2.select_autoescape(["html"]),
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
            )
        return _environments[directory]
