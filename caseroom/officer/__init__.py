"""The officers' workspace: logging in, the office's inbox, and working a case."""
