"""Dependencies every domain's routes share."""

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings


def app_settings(request: Request) -> Settings:
    """The settings the application was created with."""
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
