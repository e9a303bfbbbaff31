"""Locust scenarios against the JSON API (FastHttpUser: the load generator shares the machine's
two cores with the server, so it must cost little CPU) (run by loadtests/bench_load.py, or by hand:
`locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 SubmittingReporter ...`).

- SubmittingReporter: files reports, one in four with a small evidence file.
- ReturningReporter: comes back with a passphrase from LOCUST_PASSPHRASES (a file, one a line),
  reads the case room and sometimes writes.
- TriagingOfficer: uses the officer session LOCUST_OFFICER_TOKEN (the runner logs in once: a
  TOTP code is never accepted twice, so simulated officers share one session), reads the
  inbox, opens cases and answers some.
- Passphrases this process was given are appended to LOCUST_RECORD, if set (the soak run checks
  them all at the end).
"""

import json
import os
import random
import threading

from locust import FastHttpUser, constant, task

REPORT = {"concerns": ["misconduct"], "description": "Load test report: the supplier invoices were inflated.", "answers": {}}
EVIDENCE = os.urandom(32 * 1024)
BOUNDARY = "locustboundary5c2d"
MULTIPART = (
    (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="clean_metadata"\r\n\r\noff\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n\r\n{json.dumps(REPORT)}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="evidence.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + EVIDENCE
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)
_record_lock = threading.Lock()


def record(passphrase: str) -> None:
    path = os.environ.get("LOCUST_RECORD")
    if path:
        with _record_lock, open(path, "a", encoding="utf-8") as out:
            out.write(passphrase + "\n")


def passphrases() -> list[str]:
    path = os.environ.get("LOCUST_PASSPHRASES")
    if not path:
        return []
    with open(path, encoding="utf-8") as source:
        return [line.strip() for line in source if line.strip()]


class SubmittingReporter(FastHttpUser):
    wait_time = constant(0)

    @task(3)
    def file_report(self) -> None:
        with self.client.post("/api/v1/reports", json=REPORT, name="file report", catch_response=True) as response:
            if response.status_code == 201:
                record(response.json()["passphrase"])
            else:
                response.failure(f"status {response.status_code}")

    @task(1)
    def file_report_with_evidence(self) -> None:
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-Intake-Client": "locust"}
        with self.client.post(
            "/api/v1/reports", data=MULTIPART, headers=headers, name="file report with file", catch_response=True
        ) as response:
            if response.status_code == 201:
                record(response.json()["passphrase"])
            else:
                response.failure(f"status {response.status_code}")


class ReturningReporter(FastHttpUser):
    wait_time = constant(0)
    known = passphrases()

    @task
    def come_back(self) -> None:
        if not self.known:
            return
        passphrase = random.choice(self.known)
        with self.client.post(
            "/api/v1/caseroom/session", json={"passphrase": passphrase}, name="case room login", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")
                return
            headers = {"Authorization": f"Bearer {response.json()['token']}"}
        room = self.client.get("/api/v1/caseroom", headers=headers, name="case room").json()
        if random.random() < 0.3:
            case_id = room["cases"][0]["id"]
            self.client.post(
                f"/api/v1/caseroom/cases/{case_id}/messages", json={"body": "Any news?"}, headers=headers, name="reporter message"
            )
        self.client.delete("/api/v1/caseroom/session", headers=headers, name="case room logout")


class TriagingOfficer(FastHttpUser):
    wait_time = constant(0.5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {os.environ.get('LOCUST_OFFICER_TOKEN', '')}"}

    @task
    def triage(self) -> None:
        cases = self.client.get("/api/v1/officer/cases", headers=self.headers, name="inbox").json()["cases"]
        if not cases:
            return
        case = random.choice(cases[:20])
        self.client.get(f"/api/v1/officer/cases/{case['id']}", headers=self.headers, name="open case")
        if random.random() < 0.2:
            self.client.post(
                f"/api/v1/officer/cases/{case['id']}/messages",
                json={"body": "We are looking into it."},
                headers=self.headers,
                name="officer reply",
            )
