"""Static community page and moderator console, served by the app (no build step)."""
