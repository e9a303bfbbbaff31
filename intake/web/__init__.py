"""The web kit every page package and the API use: reading forms and streamed uploads,
CSRF tokens, body limits, security headers, error pages, downloads, and rendering a page
for a request. No pages live here (intake/pages.py, caseroom/, intake/api/)."""
