"""An officer login takes the same time whatever is wrong with it: the review measured one Argon2
call for a wrong password and two for a right password with a wrong code, and none of the
lockouts for unknown usernames. Argon2 is made costly enough here (about 50 ms) to dominate.

A wall-clock ratio: it depends on the machine's load, so it runs in the slow tier. The same property
is checked deterministically in the fast tier by
tests/service/test_officer_accounts.py::test_one_argon2_call_whatever_is_wrong (one Argon2 call
for each kind of failed login, counted)."""

import datetime as dt
import statistics
import time

import pytest

from crypto import Argon2Params
from intake.service import officers
from intake.service.errors import AuthenticationFailed

from ..clock import Clock
from ..conftest import PASSWORDS, database_url, make_instance
from ..schema import drop_schema

SAMPLES = 20


@pytest.fixture
def costly(tmp_path):
    ctx = make_instance(tmp_path / "data", database_url(tmp_path), Argon2Params(time_cost=2, memory_kib=32 * 1024))
    ctx.now = Clock(dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC))
    yield ctx
    drop_schema(ctx.engine)
    ctx.engine.dispose()


@pytest.mark.slow
def test_wrong_password_wrong_code_and_unknown_username_take_the_same_time(costly):
    attempts = {
        "wrong password": ("oig-1", "a wrong password guess", "000000"),
        "right password, wrong code": ("oig-1", PASSWORDS["oig-1"], "000000"),
        "unknown username": ("nobody-by-this-name", "a wrong password guess", "000000"),
    }
    times: dict[str, list[float]] = {name: [] for name in attempts}
    for _ in range(SAMPLES):
        for name, (username, password, code) in attempts.items():  # interleaved: drift hits all alike
            costly.now.now += dt.timedelta(minutes=20)  # past any lock: every attempt is evaluated
            start = time.perf_counter()
            with pytest.raises(AuthenticationFailed):
                officers.log_in(costly, username, password, code)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print({name: f"{m * 1000:.1f} ms" for name, m in medians.items()})
    assert max(medians.values()) / min(medians.values()) < 1.15, medians
