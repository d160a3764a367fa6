"""Every module of activejob imports on its own, in a fresh interpreter.

Each is imported under a bare ``activejob`` package (its ``__init__`` not run), so an
import cycle hidden by the order in which ``activejob/__init__.py`` happens to
import things shows up here as the one module that cannot be imported first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# One interpreter for all modules, forgetting every activejob module between two
# imports (third-party packages stay loaded: importing Django or SQLAlchemy again
# for each of a hundred modules would take half a minute and prove nothing more).
_SCRIPT = """
import importlib, sys, traceback, types
root = sys.argv.pop(1)
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "activejob" or m.startswith("activejob.")]:
        del sys.modules[loaded]
    if name != "activejob":
        # The bare package, without its __init__: each module must import what it
        # needs itself, not lean on the order the package face imports things in.
        face = types.ModuleType("activejob")
        face.__path__ = [root]
        sys.modules["activejob"] = face
    try:
        importlib.import_module(name)
    except BaseException:
        failed.append(name + ":\\n" + traceback.format_exc(limit=-3))
print("\\n".join(failed))
"""


def _modules() -> list[str]:
    names = []
    for path in sorted((SRC / "activejob").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # runs the CLI when imported, by design
        if parts == ["activejob", "contrib", "django", "boot"]:
            continue  # sets Django up when imported, by design (needs a settings module)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_module_imports_on_its_own() -> None:
    modules = _modules()
    assert "activejob.globalid.gid" in modules and "activejob.log" in modules
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(SRC / "activejob"), *modules],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=SRC,
    )
    assert done.stdout.strip() == "", done.stdout
