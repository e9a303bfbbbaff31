"""Small helpers the tests share: log in, file a report, open a case room."""

from starlette.testclient import TestClient

from intake.service import officers
from intake.service.context import Context

from .conftest import PASSWORDS


def officer_token(ctx: Context, username: str) -> str:
    return officers.log_in(ctx, username, PASSWORDS[username])


def api_login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/officer/session", json={"username": username, "password": PASSWORDS[username]})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def file_via_api(client: TestClient, concerns: list[str], description: str, answers: dict | None = None) -> dict:
    response = client.post("/api/v1/reports", json={"concerns": concerns, "description": description, "answers": answers or {}})
    assert response.status_code == 201, response.text
    return response.json()


def caseroom_login(client: TestClient, passphrase: str) -> dict[str, str]:
    response = client.post("/api/v1/caseroom/session", json={"passphrase": passphrase})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
