"""JSON shapes of the auth API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.models import Role


class MeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role


class TokenCreateIn(BaseModel):
    name: str = Field(default="", max_length=80)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str  # shown once; only its hash is kept


class UserAdminOut(MeOut):
    created_at: datetime
    suspended_at: datetime | None


class UserAdminPatch(BaseModel):
    role: Role | None = None
    suspended: bool | None = None
