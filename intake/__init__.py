"""The intake service: reporter intake, the shared service layer, the app and the CLI."""
