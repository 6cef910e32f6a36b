"""JSON shapes of the auth API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.models import Role
from app.forms import RawForm


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


# ---- the page forms as posted ----


class LoginForm(RawForm):
    email: str = Field(default="", max_length=320)
    password: str = Field(default="", max_length=1024)
    next: str = "/"  # where to go once signed in (same-site paths only)


class SignupForm(LoginForm):
    display_name: str = Field(default="", max_length=80)


class SignupConfirmForm(RawForm):
    token: str = Field(default="", max_length=100)
    next: str = "/"


class PasswordForm(RawForm):
    current_password: str = Field(default="", max_length=1024)
    new_password: str = Field(default="", max_length=1024)
    keep_tokens: bool = False  # a checkbox: keep the API tokens working
