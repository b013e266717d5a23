"""The Alembic scripts (env.py, script.py.mako, versions/), at the top level beside `api/`
as the product's layout names them. A package, declared in pyproject.toml, so the wheel
ships it and `qd85 migrate` from an installed wheel (the Docker image) finds the scripts
(api/cli.py locates them by this package, without importing env.py)."""
