"""Builders for community tests, through the real services."""

import pytest

from tests import factories


@pytest.fixture
def post_by(db, settings):
    """post_by(user, **fields) -> a committed post written by that user."""

    def make(user, **fields):
        post = factories.make_post(db, user, data_dir=settings.data_dir, **fields)
        db.commit()
        return post

    return make


@pytest.fixture
def model_for(db, settings):
    """model_for(user) -> a finished model of the user's with three epoch samples."""

    def make(user, **kwargs):
        return factories.make_model_with_samples(db, settings.data_dir, user, **kwargs)

    return make
