"""Laurel: the core (settings, database, domain, use cases, app, CLI)."""
