"""Browser tests: Debian's Chromium driven by Playwright. Its path and flags are here so that the onion
check (loadtests/onion) launches the same browser the same way."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
