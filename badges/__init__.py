"""Badge engine: catalog as data, criteria, granter and images (built in a later issue)."""
