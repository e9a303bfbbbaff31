"""The case room: where a reporter and the office talk, and where officers work a case."""
