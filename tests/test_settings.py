"""The deployment's addresses, read from the environment (issue 26): a placeholder or a malformed
address stops start-up, since a wrong onion address would serve onion visitors cookies their browsers
never send back, and a wrong public address would be printed for reporters to come back to."""

import pytest

from intake.settings import Settings

ONION = "intakeonionservicex2345abcdefghijklmnopqrstuvwxyz234567d.onion"


def settings(monkeypatch, tmp_path, **env: str) -> Settings:
    for name in ("INTAKE_ONION_ADDRESS", "INTAKE_PUBLIC_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(data_dir=tmp_path)


def test_the_onion_address_is_read_as_tor_wrote_it(monkeypatch, tmp_path):
    read = settings(monkeypatch, tmp_path, INTAKE_ONION_ADDRESS=f" {ONION.upper()}\n")
    assert read.onion_address == ONION and read.onion_url == f"http://{ONION}/"
    assert settings(monkeypatch, tmp_path).onion_address is None


@pytest.mark.parametrize(
    "value",
    [
        "replace-with-the-address-in-var-lib-tor-intake-hostname.onion",  # the shipped placeholder
        "expyuzz4wqqyqhjn.onion",  # a v2 address, gone from Tor
        f"http://{ONION}/",  # an address, not the host Tor wrote
        ONION.replace("d.onion", "a.onion"),  # not version 3
        ONION.replace("a", "1", 1),  # not base32
        "report.example.org",
    ],
)
def test_a_wrong_onion_address_stops_start_up(monkeypatch, tmp_path, value):
    with pytest.raises(SystemExit, match="INTAKE_ONION_ADDRESS must be"):
        settings(monkeypatch, tmp_path, INTAKE_ONION_ADDRESS=value)


def test_the_public_address_ends_in_a_slash(monkeypatch, tmp_path):
    assert settings(monkeypatch, tmp_path, INTAKE_PUBLIC_ADDRESS="https://report.example.org").public_address == (
        "https://report.example.org/"
    )
    assert settings(monkeypatch, tmp_path, INTAKE_PUBLIC_ADDRESS=f"http://{ONION}/").public_address == f"http://{ONION}/"


@pytest.mark.parametrize(
    "value", ["http://replace-with-the-address-in-var-lib-tor-intake-hostname.onion/", "report.example.org", "ftp://x.org/"]
)
def test_a_wrong_public_address_stops_start_up(monkeypatch, tmp_path, value):
    with pytest.raises(SystemExit, match="INTAKE_PUBLIC_ADDRESS must be"):
        settings(monkeypatch, tmp_path, INTAKE_PUBLIC_ADDRESS=value)
