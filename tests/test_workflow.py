""".github/workflows/ci.yml: a fork's hosted CI runs the same .ci/run as this machine, in Debian, against a
PostgreSQL service it reaches by name. Read as the runner reads it (YAML), since nothing here can run it."""

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
CI_RUN = ROOT / ".ci" / "run"
BOOKWORM_POSTGRESQL = 15  # bookworm's postgresql-client: its pg_dump refuses a newer server


def _job() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(workflow, dict)
    # YAML 1.1 reads the key `on` as True: either spelling is the trigger.
    triggers = workflow.get("on", workflow.get(True))
    assert "push" in triggers and "pull_request" in triggers
    (job,) = workflow["jobs"].values()
    return job


def test_the_workflow_runs_ci_run_in_debian_bookworm():
    job = _job()
    assert job["container"] in ("debian:bookworm", {"image": "debian:bookworm"})
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any(re.search(r"^\s*\.ci/run\s*$", run, re.MULTILINE) for run in runs)
    # The checkout comes before the step that runs what it checked out.
    names = [step.get("uses", "") or step.get("run", "") for step in job["steps"]]
    checkout = next(i for i, n in enumerate(names) if n.startswith("actions/checkout@"))
    assert checkout < next(i for i, n in enumerate(names) if ".ci/run" in n)


def test_the_postgresql_service_is_the_one_ci_run_reaches():
    job = _job()
    (name,) = job["services"]
    service = job["services"][name]
    image, version = service["image"].split(":")
    assert image == "postgres" and int(version.split(".")[0]) <= BOOKWORM_POSTGRESQL
    assert service["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"  # .ci/run connects as postgres, no password
    assert service["env"]["POSTGRES_DB"] == "test"  # the database .ci/run's TEST_DATABASE_URL names
    assert "pg_isready" in service["options"]  # the job starts once it answers
    # A container job reaches its service by name: .ci/run takes it from PGHOST.
    assert job["env"]["PGHOST"] == name
    assert '"${PGHOST:-127.0.0.1}"' in CI_RUN.read_text()


def test_ci_run_builds_its_database_address_from_pghost_and_keeps_this_machines_default():
    """The lines of .ci/run that pick the database, run by bash with and without PGHOST (pg_isready left out)."""
    lines = [line for line in CI_RUN.read_text().splitlines() if line.startswith(("pg_host=", "export TEST_DATABASE_URL="))]
    assert len(lines) == 2
    script = "\n".join([*lines, 'echo "$TEST_DATABASE_URL"'])

    def url(env: dict[str, str]) -> str:
        return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout.strip()

    assert url({}) == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert url({"PGHOST": "postgres"}) == "postgresql+psycopg://postgres@postgres:5432/test"


def test_ci_run_runs_without_the_shared_house_rules():
    # A fork has no ../shared/checks/house-rules: .ci/run runs it only where it is.
    text = CI_RUN.read_text()
    call = text.index("python3 ../shared/checks/house-rules")
    guard = text.rindex("if [ -x ../shared/checks/house-rules ]", 0, call)
    assert "fi" not in text[guard:call]
