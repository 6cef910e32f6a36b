"""Sign-up, sign-in, account pages and the /api/me and token endpoints."""

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import Response as PlainResponse

from app import forms
from app.auth import service as auth_service
from app.auth import signup as signup_service
from app.auth.dependencies import (
    SESSION_COOKIE,
    CurrentUser,
    DbSession,
    OptionalUser,
    require_role,
)
from app.auth.models import Role, User
from app.auth.schemas import (
    LoginForm,
    MeOut,
    PasswordForm,
    SignupConfirmForm,
    SignupForm,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    UserAdminOut,
    UserAdminPatch,
)
from app.csrf import CSRF_COOKIE
from app.dependencies import SettingsDep, app_settings
from app.errors import DomainError, NotFound
from app.flows import accounts as accounts_flow
from app.web import redirect, render

router = APIRouter()


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(next_url: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce the user elsewhere after sign-in."""
    if not next_url:
        return "/"
    parsed = urlparse(next_url)
    if parsed.scheme or parsed.netloc or not next_url.startswith("/") or next_url.startswith("//"):
        return "/"
    return next_url


def _cookie_secure(request: Request) -> bool:
    mode = app_settings(request).cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _signed_in(request: Request, db, user: User, response: Response, keep_csrf: bool = False) -> Response:
    """`response` with a new session for `user` in its cookie: the browser's old session ends and
    (unless kept) the CSRF seed rotates, so no one can fix either in advance."""
    settings = app_settings(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        auth_service.end_session(db=db, raw_token=old)
    raw = auth_service.start_session(db=db, user=user, max_age_days=settings.session_max_age_days)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_max_age_days * 86400,
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        path="/",
    )
    if not keep_csrf:
        response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser):
    if user:
        return redirect(request, "/")
    return render(request, "auth/signup.html", {"next": _safe_next(request.query_params.get("next"))})


@router.post("/signup")
def signup(settings: SettingsDep, request: Request, db: DbSession, form: Annotated[SignupForm, Form()]):
    def request_signup():
        return signup_service.request_signup(
            db=db,
            data_dir=settings.data_dir,
            email=form.email,
            password=form.password,
            display_name=form.display_name,
            link_base=str(request.base_url).rstrip("/"),
            next_path=_safe_next(form.next),
        )

    def rejected(messages: list[str], status: int) -> Response:
        ctx = {"error": messages[0], **form.model_dump(exclude={"password"})}  # never echo a password
        return render(request, "auth/signup.html", ctx, status_code=status)

    # The same page whether or not the address has an account: nothing to learn from it.
    return forms.submit(
        db,
        request_signup,
        rejected=rejected,
        done=lambda sent_to: render(request, "auth/signup_sent.html", {"email": sent_to}),
    )


@router.get("/signup/confirm")
def signup_confirm_page(request: Request, db: DbSession, token: str = "", next: str = "/"):
    try:
        row = signup_service.pending(db=db, raw_token=token)
    except DomainError as exc:
        return render(request, "auth/signup_confirm.html", {"error": exc.detail}, status_code=exc.status_code)
    ctx = {"token": token, "email": row.email, "next": _safe_next(next)}
    return render(request, "auth/signup_confirm.html", ctx)


@router.post("/signup/confirm")
def signup_confirm(request: Request, db: DbSession, form: Annotated[SignupConfirmForm, Form()]):
    def confirm() -> Response:
        user = signup_service.confirm_signup(db=db, raw_token=form.token)
        welcome = f"Welcome, {user.display_name}!"
        return _signed_in(request, db, user, redirect(request, _safe_next(form.next), welcome, "success"))

    return forms.submit(
        db,
        confirm,
        rejected=lambda messages, status: render(
            request, "auth/signup_confirm.html", {"error": messages[0]}, status_code=status
        ),
        done=lambda response: response,
        keep_rejected=True,  # the losing links' rows are gone
    )


@router.get("/login")
def login_page(request: Request, user: OptionalUser):
    if user:
        return redirect(request, "/")
    return render(request, "auth/login.html", {"next": _safe_next(request.query_params.get("next"))})


@router.post("/login")
def login(settings: SettingsDep, request: Request, db: DbSession, form: Annotated[LoginForm, Form()]):
    def sign_in() -> Response:
        user = auth_service.authenticate(
            db=db,
            email=form.email,
            password=form.password,
            address=_client_address(request),
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
            window_minutes=settings.login_window_minutes,
        )
        return _signed_in(request, db, user, redirect(request, _safe_next(form.next)))

    return forms.submit(
        db,
        sign_in,
        rejected=lambda messages, status: render(
            request,
            "auth/login.html",
            {"error": messages[0], "email": form.email, "next": form.next},
            status_code=status,
        ),
        done=lambda response: response,
        keep_rejected=True,  # a failed sign-in stays counted (the throttle reads it)
    )


@router.post("/logout")
def logout(request: Request, db: DbSession):
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        auth_service.end_session(db=db, raw_token=raw)
        db.commit()
    response = redirect(request, "/", "You are signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/account")
def account_page(request: Request, db: DbSession, user: CurrentUser):
    tokens = auth_service.list_api_tokens(db=db, user=user)
    return render(request, "auth/account.html", {"tokens": tokens, "new_token": None})


@router.post("/account/password")
def change_password(
    request: Request, db: DbSession, user: CurrentUser, form: Annotated[PasswordForm, Form()]
):
    def change() -> Response:
        auth_service.change_password(
            db=db,
            user=user,
            current=form.current_password,
            new=form.new_password,
            keep_session=request.cookies.get(SESSION_COOKIE),
            keep_tokens=form.keep_tokens,
        )
        kept = "kept" if form.keep_tokens else "revoked"
        message = f"Password changed. Other devices were signed out; API tokens {kept}."
        # a new session id for this browser too
        return _signed_in(
            request, db, user, redirect(request, "/account", message, "success"), keep_csrf=True
        )

    def rejected(messages: list[str], status: int) -> Response:
        ctx = {"tokens": auth_service.list_api_tokens(db=db, user=user), "password_error": messages[0]}
        return render(request, "auth/account.html", {"new_token": None, **ctx}, status_code=status)

    return forms.submit(db, change, rejected=rejected, done=lambda response: response)


@router.post("/account/tokens")
def create_token_page(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    name: Annotated[str, Form(max_length=80)] = "",
):
    _, raw = auth_service.create_api_token(db=db, user=user, name=name)
    db.commit()
    tokens = auth_service.list_api_tokens(db=db, user=user)
    return render(request, "auth/account.html", {"tokens": tokens, "new_token": raw}, block="tokens")


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token_page(request: Request, db: DbSession, user: CurrentUser, token_id: int):
    auth_service.revoke_api_token(db=db, user=user, token_id=token_id)
    db.commit()
    tokens = auth_service.list_api_tokens(db=db, user=user)
    if request.headers.get("HX-Request"):
        return render(request, "auth/account.html", {"tokens": tokens, "new_token": None}, block="tokens")
    return redirect(request, "/account", "Token revoked.")


@router.post("/account/delete")
def delete_account_page(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    confirm: Annotated[str, Form()] = "",
):
    if confirm.strip().lower() != user.email:
        tokens = auth_service.list_api_tokens(db=db, user=user)
        ctx = {"tokens": tokens, "new_token": None, "delete_error": "Type your email to confirm."}
        return render(request, "auth/account.html", ctx, status_code=400)
    accounts_flow.erase_account(db=db, settings=settings, user=user)
    response = redirect(request, "/", "Your account and all its data were deleted.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- JSON API ----


@router.get("/api/me", response_model=MeOut)
def me(user: CurrentUser):
    return user


@router.delete("/api/me", status_code=204)
def delete_me(settings: SettingsDep, request: Request, db: DbSession, user: CurrentUser):
    accounts_flow.erase_account(db=db, settings=settings, user=user)
    return PlainResponse(status_code=204)


@router.get("/api/tokens", response_model=list[TokenOut])
def list_tokens(db: DbSession, user: CurrentUser):
    return auth_service.list_api_tokens(db=db, user=user)


@router.post("/api/tokens", response_model=TokenCreatedOut, status_code=201)
def create_token(body: TokenCreateIn, db: DbSession, user: CurrentUser):
    token, raw = auth_service.create_api_token(db=db, user=user, name=body.name)
    db.commit()
    return TokenCreatedOut(**TokenOut.model_validate(token).model_dump(), token=raw)


@router.delete("/api/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, db: DbSession, user: CurrentUser):
    auth_service.revoke_api_token(db=db, user=user, token_id=token_id)
    db.commit()
    return PlainResponse(status_code=204)


AdminUser = Annotated[User, Depends(require_role(Role.admin))]


@router.get("/api/users", response_model=list[UserAdminOut])
def list_users(db: DbSession, _: AdminUser, limit: int = 200, offset: int = 0):
    return auth_service.list_users(db=db, limit=min(max(limit, 1), 1000), offset=max(offset, 0))


@router.patch("/api/users/{user_id}", response_model=UserAdminOut)
def update_user(user_id: int, body: UserAdminPatch, db: DbSession, admin: AdminUser):
    target = auth_service.get_user(db=db, user_id=user_id)
    if target is None:
        raise NotFound("No such user.")
    if target.id == admin.id and (body.role not in (None, Role.admin) or body.suspended):
        raise DomainError("Admins cannot demote or suspend themselves.")
    if body.role is not None:
        auth_service.set_role(db=db, user=target, role=body.role)
    if body.suspended is not None:
        auth_service.set_suspended(db=db, user=target, suspended=body.suspended)
    db.commit()
    return target
