"""``manage.py run_cases [NAME ...]``: run the adapted cases of ``taskapp.cases`` in
this process (a real Django process, on the project's real database) and print one
JSON document: ``{"Class.test_name": {"outcome": "passed" | "failed", "detail": ...}}``."""

import io
import json
import unittest
from typing import Any

from django.core.management.base import BaseCommand


class _Collecting(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, dict[str, str]] = {}

    def _name(self, test: Any) -> str:
        test = getattr(test, "test_case", test)  # a subTest reports its case
        return f"{type(test).__name__}.{test._testMethodName}"

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self.outcomes.setdefault(self._name(test), {"outcome": "passed", "detail": ""})

    def _failed(self, test: Any, err: Any) -> None:
        detail = self._exc_info_to_string(err, test)
        self.outcomes[self._name(test)] = {"outcome": "failed", "detail": detail}

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._failed(test, err)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._failed(test, err)

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed(subtest, err)

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self.outcomes[self._name(test)] = {"outcome": "skipped", "detail": reason}


class Command(BaseCommand):
    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("names", nargs="*", help="Class.test_name to run (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        loader = unittest.TestLoader()
        if options["names"]:
            suite = loader.loadTestsFromNames([f"taskapp.cases.{n}" for n in options["names"]])
        else:
            suite = loader.loadTestsFromName("taskapp.cases")
        runner = unittest.TextTestRunner(stream=io.StringIO(), resultclass=_Collecting)
        result = runner.run(suite)
        self.stdout.write(json.dumps(result.outcomes, indent=1))
