"""Import every domain's tables so Base.metadata is complete (Alembic, tests, truncation)."""


def import_all_models() -> None:
    """Import each domain's models module for its side effect of registering tables."""
    import app.auth.models  # noqa: F401
    import app.community.models  # noqa: F401
    import app.datasets.models  # noqa: F401
    import app.evaluate.models  # noqa: F401
    import app.lab.models  # noqa: F401
    import app.quiz.models  # noqa: F401
    import app.review.models  # noqa: F401
