"""Import every domain's tables so Base.metadata is complete (Alembic, tests, truncation)."""


def import_all_models() -> None:
    """Import each domain's models module for its side effect of registering tables."""
    import app.auth.models  # noqa: F401
