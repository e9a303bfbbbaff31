"""The model-based test of case work (tests/model/case_work.py), with a bounded number of examples:
`make explore` runs the same machine for as long as it is given."""

import os

import pytest
from hypothesis import HealthCheck, settings

from .model.case_work import CaseWork

pytestmark = pytest.mark.slow

TestCaseWork = CaseWork.TestCase
TestCaseWork.settings = settings(
    max_examples=int(os.environ.get("INTAKE_MODEL_EXAMPLES", "20")),
    stateful_step_count=int(os.environ.get("INTAKE_MODEL_STEPS", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
