"""The HTTP side: the Starlette app, its middleware, the reporter pages and the JSON API."""
