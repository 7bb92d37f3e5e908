"""The test suite: tests mirror app/ (tests/<package>/ for app/<package>/), fixtures are in
tests/conftest.py, builders and checks in tests/factories.py."""

import pytest

# Checks moved out of test modules into helpers keep pytest's detailed assertion messages.
pytest.register_assert_rewrite("tests.models.constraints", "tests.auth.helpers")
