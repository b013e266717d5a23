"""One file per schema change. A package only so the wheel ships it (Alembic skips this file)."""
