"""The model manager dialog, its background jobs, and the welcome page."""
