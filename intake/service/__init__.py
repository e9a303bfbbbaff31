"""The service layer: every operation the HTML pages, the JSON API and the CLI perform.

Web code calls these functions (in a worker thread: they block on Argon2 and the
database) and turns their exceptions into HTTP answers; nothing here knows HTTP.
"""
