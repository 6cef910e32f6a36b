"""Hostile-input probe: attack a real `loraface serve` from outside and count what held.

Starts the server on its own data dir (SQLite unless --database-url), makes a learner who passed
lesson 6, an instructor and an admin through the real services, then sends the requests an
attacker or a careless script would: cost limits walked around, control characters in every
field, booleans for numbers, unknown filters, sign-in guessing from several addresses, sign-up
enumeration, weak passwords, metadata in pictures, 16-bit photos, anonymous 100 MB bodies, caps.
Each probe is "handled" when the answer is the safe one; anything else, a 500 above all, "failed".

    python benchmarks/hardening_probe.py            # prints tried / handled / failed
"""

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CONTROL_CHARS = ["\u0000", "\u0001", "\u0007", "\u001b", "\u007f"]
WEAK = [
    "password1234",
    "P@ssw0rd!",
    "12345678",
    "qwertyuiop",
    "aaaaaaaaaa",
    "letmein2024",
    "probe@example.com",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate and make the accounts (in a child process, with the server's environment)."""
    code = """
import json
from app.config import get_settings; from app.migrate import upgrade
from app.db import make_engine, make_sessionmaker; from app.seed import seed_all
from app.auth import service as s; from app.auth.models import Role
from app.privacy import service as privacy
from app.lessons import service as lessons; from app.quiz import service as quiz
st = get_settings(); st.ensure_data_dir(); upgrade(st.database_url)
db = make_sessionmaker(make_engine(st.database_url))(); seed_all(db=db, settings=st)
out = {}
for name, role in (("learner", Role.learner), ("instructor", Role.instructor), ("admin", Role.admin)):
    u = s.create_user(db=db, email=f"{name}@probe.example", password="quiet orange kettle", role=role)
    privacy.record_consent(db=db, user=u)
    out[name] = s.create_api_token(db=db, user=u, name="probe")[1]
    if role == Role.learner:
        for n in range(1, 7):
            qs = quiz.list_questions(db=db, lesson_number=n)
            lessons.submit_check(db=db, user_id=u.id, number=n, answers={q.id: quiz.right_answers(q) for q in qs})
db.commit(); print(json.dumps(out))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


class Probe:
    """Counts every hostile request and whether its answer was the safe one."""

    def __init__(self, base: str, tokens: dict[str, str]):
        self.base, self.tokens = base, tokens
        self.tried = self.handled = 0
        self.failures: list[str] = []
        self.http = httpx.Client(base_url=base, timeout=60)

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def expect(self, name: str, response: httpx.Response, ok) -> httpx.Response:
        self.tried += 1
        good = response.status_code < 500 and ok(response)
        self.handled += good
        if not good:
            self.failures.append(f"{name}: {response.status_code} {response.text[:160]}")
        return response

    def check(self, name: str, good: bool, why: str = "") -> None:
        self.tried += 1
        self.handled += good
        if not good:
            self.failures.append(f"{name}: {why}")


def status(*codes):
    return lambda r: r.status_code in codes


def photos(count: int) -> list[tuple[str, bytes, str]]:
    from tests import dataset_photos as dp

    return [(f"me_{i}.jpg", dp.jpeg_bytes(im), "image/jpeg") for i, im in enumerate(dp.good_set(count))]


def probe_jobs(p: Probe) -> None:
    files = [("files", f) for f in photos(4)]
    made = p.http.post("/api/datasets", files=files, headers=p.as_("learner"))
    dataset_id = made.json().get("id", 0)
    base = {"dataset_id": dataset_id, "trigger": "sks", "class_word": "woman", "resolution": 64}
    cases = {
        "epochs x repeats": {"epochs": 200, "repeats": 100, "batch_size": 1},
        "largest settings": {"steps": 20000, "resolution": 2048, "batch_size": 16, "rank": 256},
        "steps true": {"steps": True},
        "rank true": {"rank": True},
        "seed false": {"seed": False},
        "steps string": {"steps": "many"},
        "rank huge": {"rank": 4096},
    }
    for name, extra in cases.items():
        p.expect(
            f"job {name}",
            p.http.post("/api/jobs", json={**base, **extra}, headers=p.as_("learner")),
            status(422),
        )


def probe_filters(p: Probe) -> None:
    for query in (
        "lesson=abc",
        "lesson=0",
        "lesson=99",
        "lessn=3",
        "kind=nonsense",
        "limit=-1",
        "before=abc",
    ):
        p.expect(f"feed {query}", p.http.get(f"/api/feed?{query}", headers=p.as_("learner")), status(422))


def probe_control_characters(p: Probe) -> None:
    openapi = p.http.get("/openapi.json").json()
    for path, methods in openapi["paths"].items():
        for method in methods:
            if method.upper() not in ("POST", "PUT", "PATCH") or not path.startswith("/api/"):
                continue
            url = path.replace("{", "").replace("}", "")
            url = "/".join(
                "1" if part.endswith("id") or part == "number" else part for part in url.split("/")
            )
            for char in CONTROL_CHARS:
                body = {"title": f"a{char}b", "body": "x", "name": "n", "prompt": "p"}
                r = p.http.request(method.upper(), url, json=body, headers=p.as_("admin"))
                p.expect(
                    f"{method} {path} U+{ord(char):04X}",
                    r,
                    lambda r: r.status_code == 400 and "title" in r.text,
                )
    for char in CONTROL_CHARS:
        r = p.http.get("/api/feed", params={"kind": f"help{char}"}, headers=p.as_("learner"))
        p.expect(f"query U+{ord(char):04X}", r, status(400))
    gift = b"::Q:: Probe\x00 question? {=yes ~no}\n"
    r = p.http.post(
        "/api/quiz/import?lesson=1",
        content=gift,
        headers={**p.as_("instructor"), "Content-Type": "text/plain"},
    )
    p.expect("GIFT with NUL", r, status(400))
    raw = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a\x00.jpg"\r\n\r\nxx\r\n--b--\r\n'
    r = p.http.post(
        "/api/datasets",
        content=raw,
        headers={**p.as_("learner"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    p.expect("file name with NUL", r, status(400))


def probe_sign_in(p: Probe) -> None:
    def login(email, password, address):
        with httpx.Client(base_url=p.base, timeout=30) as c:
            page = c.get("/login").text
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            return c.post("/login", data={"email": email, "password": password, "csrf_token": token},
                          headers={"X-Forwarded-For": address})  # fmt: skip

    owner = "learner@probe.example"
    guesses = [login(owner, f"guess {i}", "10.9.9.9") for i in range(8)]
    throttled = [r for r in guesses if r.status_code == 429]
    p.check(
        "guesser throttled with Retry-After",
        bool(throttled) and all("retry-after" in r.headers for r in throttled),
    )
    p.expect("owner signs in from home", login(owner, "quiet orange kettle", "10.1.1.1"), status(303))
    for i in range(13):
        login("instructor@probe.example", f"wrong {i}", "10.7.7.7")
    p.expect(
        "neighbour account from same address",
        login("admin@probe.example", "quiet orange kettle", "10.7.7.7"),
        status(303),
    )
    with httpx.Client(base_url=p.base, timeout=30) as c:
        token = c.get("/signup").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

        def signup(email, password="velvet harbour lantern"):  # noqa: E306
            return c.post("/signup", data={"email": email, "password": password, "csrf_token": token})

        known, fresh = signup("learner@probe.example"), signup("nobody@probe.example")
        same = known.text.replace("learner@", "X@") == fresh.text.replace("nobody@", "X@")
        p.check(
            "sign-up does not reveal a registered email",
            known.status_code == fresh.status_code == 200 and same,
        )
        for weak in WEAK:
            p.expect(f"weak password {weak!r}", signup("probe@example.com", weak), status(400))


def probe_headers_and_tokens(p: Probe) -> None:
    r = p.http.get("/api/me", headers=p.as_("learner"))
    p.expect("no-store on signed-in JSON", r, lambda r: r.headers.get("cache-control") == "no-store")
    statuses = [
        p.http.post("/api/tokens", json={"name": f"t{i}"}, headers=p.as_("instructor")).status_code
        for i in range(21)
    ]
    p.check("token cap", 409 in statuses and 500 not in statuses, str(statuses))


def probe_pictures(p: Probe) -> None:
    from PIL import Image

    from tests.photos import astronaut, square

    out = io.BytesIO()
    square(astronaut(), 256).save(out, "JPEG", comment=b"12 Rue de Rivoli <script>alert(1)</script>")
    r = p.http.post(
        "/api/quiz/images",
        files={"file": ("a.jpg", out.getvalue(), "image/jpeg")},
        headers=p.as_("instructor"),
    )
    stored = (
        p.http.get(r.json().get("image_url", "/missing"), headers=p.as_("instructor")).content
        if r.status_code == 201
        else b""
    )
    p.check(
        "quiz picture comment stripped", bool(stored) and b"Rivoli" not in stored and b"script" not in stored
    )
    import numpy as np

    grey = np.asarray(square(astronaut(), 512).convert("L"), dtype=np.uint16) * 257
    png = io.BytesIO()
    Image.fromarray(grey).save(png, "PNG")
    r = p.http.post(
        "/api/datasets", files=[("files", ("g.png", png.getvalue(), "image/png"))], headers=p.as_("learner")
    )
    codes = (
        {pr["code"] for pr in r.json()["images"][0]["problems"]}
        if r.status_code == 201
        else {"upload failed"}
    )
    p.check(
        "16-bit grey photo is a face", "no_face" not in codes and "upload failed" not in codes, str(codes)
    )


def probe_uploads(p: Probe) -> None:
    host, port = p.base.removeprefix("http://").split(":")
    for name, extra in (("anonymous", ""), ("dead token", "Authorization: Bearer lf_nope\r\n")):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                f"POST /api/datasets HTTP/1.1\r\nHost: {host}\r\nContent-Length: 104857600\r\n"
                f"Content-Type: multipart/form-data; boundary=x\r\n{extra}\r\n".encode()
            )
            answer = conn.recv(200)
        p.check(
            f"{name} 100 MB upload refused before the body",
            answer.startswith(b"HTTP/1.1 401"),
            answer[:40].decode(),
        )
    gift = "".join(f"::Q{i}:: Q{i}? {{=yes ~no}}\n\n" for i in range(20_000)).encode()
    r = p.http.post(
        "/api/quiz/import?lesson=2",
        content=gift,
        headers={**p.as_("instructor"), "Content-Type": "text/plain"},
    )
    p.expect("GIFT of 20,000 questions", r, status(409, 413))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="loraface-probe-"))
    port = free_port()
    env = {**os.environ, "LORAFACE_DATA_DIR": str(data_dir), "LORAFACE_WORKER": "off", "OMP_NUM_THREADS": "1"}
    env.pop("LORAFACE_BASE_MODEL", None)
    if args.database_url:
        env["LORAFACE_DATABASE_URL"] = args.database_url
    tokens = prepare(env)
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        p = Probe(base, tokens)
        for step in (probe_jobs, probe_filters, probe_control_characters, probe_sign_in,
                     probe_headers_and_tokens, probe_pictures, probe_uploads):  # fmt: skip
            step(p)
        server_errors = (data_dir / "server.log").read_text().count("unhandled error")
        print(
            f"probe: tried {p.tried}, handled {p.handled}, failed {p.tried - p.handled}; 500s logged: {server_errors}"
        )
        for failure in p.failures:
            print("  failed:", failure)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
