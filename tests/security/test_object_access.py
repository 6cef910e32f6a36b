"""Who may reach whose objects. Learner A owns one object of every kind; every route with an id in
its path is called with A's ids, with each of its methods, by A, another learner, an instructor, a
reviewer, an admin and a visitor.

Routes are read from the app, so a new id route is called as soon as it exists, and this test fails
until its id's object (OBJECT_OF_PARAM), its body if it reads one (BODIES) and who may use it
(RULES; no rule means nobody, not even A) are written down here. Whoever RULES does not name must get
no 2xx and no redirect into the object; nobody may see a private marker that MARKER_READERS does
not give them; and A's objects must be exactly as they were after every route.

Allowed writes are not sent: they would change what the later calls see (a moderator deleting the
post), and the domains' own tests cover them. Allowed reads are sent and must answer."""

import io
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.community.models import Comment, Post, Reaction, Report, ReportReason
from app.datasets.models import Dataset, DatasetImage
from app.evaluate.models import Generation, Sweep
from app.lab.models import LoraModel, TrainingJob
from app.quiz.models import LessonCheckSettings, Question
from app.review.models import Review, Submission
from tests import factories
from tests.conftest import csrf_token
from tests.photos import write_face_set
from tests.security.test_csrf_and_headers import _walk

pytestmark = pytest.mark.slow  # one tiny LoRA is trained, sampled and swept

OWNER, LEARNER, VISITOR = "owner", "learner", "visitor"  # A, another learner, nobody signed in
INSTRUCTOR, REVIEWER, ADMIN = "instructor", "reviewer", "admin"
SIGNED_IN = {OWNER, LEARNER, INSTRUCTOR, REVIEWER, ADMIN}
REVIEWERS = {REVIEWER, ADMIN}  # admins have every role
MODERATORS = REVIEWERS  # reviewers moderate the community
AUTHORS = {INSTRUCTOR, ADMIN}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# A's private data: each marker appears only in answers to the actors named here.
EMAIL = "ada.private.owner@example.com"
DATASET_NAME = "ada-private-dataset-q7"
CAPTION = "sks woman, ada-private-caption-q7"
TOKEN_NAME = "ada-private-token-q7"
MODEL_NAME = "ada_private_model_q7"
REPORT_NOTE = "ada-private-report-note-q7"
FEEDBACK = "author-only-feedback-q7"  # a question's feedback gives its answer away
MARKER_READERS = {
    EMAIL: {OWNER},  # no id route shows an email to anyone else
    DATASET_NAME: {OWNER},
    CAPTION: {OWNER},
    TOKEN_NAME: {OWNER},
    MODEL_NAME: {OWNER} | REVIEWERS,  # reviewers see and try any model
    REPORT_NOTE: {OWNER} | MODERATORS,
    FEEDBACK: AUTHORS,  # not even A, who is a learner
}

# The object each id parameter names; a route's object is the one of its last id.
ID_PARAM = re.compile(r"(^|_)(id|number)$")
OBJECT_OF_PARAM = {
    "token_id": "api token", "user_id": "user", "number": "lesson", "lesson_number": "lesson",
    "question_id": "quiz question", "dataset_id": "dataset", "image_id": "dataset image",
    "job_id": "training job", "model_id": "model", "generation_id": "generation", "sweep_id": "sweep",
    "submission_id": "review submission", "post_id": "community post", "comment_id": "comment",
    "report_id": "report",
}  # fmt: skip

# Who besides nobody may use a route, per object: (pattern on "METHOD /path/{template}", who, why);
# the first pattern that matches decides, no match means nobody.
RULES: dict[str, list[tuple[str, set[str], str]]] = {
    "api token": [("", {OWNER}, "a token is its owner's alone: not even an admin revokes someone else's")],
    "user": [
        (r"^PATCH /api/users/", {ADMIN}, "admins manage accounts; A may not promote herself"),
        (r"/moderation/users/", MODERATORS, "moderators suspend learners; A may not lift her own suspension"),
    ],
    "lesson": [
        (r" /(instructor|api/quiz)/", AUTHORS, "instructors and admins author the checks"),
        ("", SIGNED_IN, "the course is for everyone signed in, and lesson 1 is open to all"),
    ],
    "quiz question": [("", AUTHORS, "the question bank, with answers and feedback, is for authors")],
    "dataset": [("", {OWNER}, "a learner's photos are hers alone")],
    "dataset image": [("", {OWNER}, "a learner's photos and captions are hers alone")],
    "training job": [
        ("", {OWNER}, "a job is its owner's; reviewers see a job's samples only once it made a model, "
                      "and this one is still running"),
    ],
    "model": [
        (r"^POST .*/sweeps$", {OWNER}, "only the owner queues sweeps of her model"),
        (r"^POST .*/submissions$", {OWNER}, "only the owner submits her model"),
        (r" /api/community/", {OWNER}, "only the owner shares her model's samples"),
        ("", {OWNER} | REVIEWERS, "CONTRACT: the owner and reviewers see, download and try a model"),
    ],
    "generation": [("", {OWNER} | REVIEWERS, "the model's owner and reviewers see the images made with it")],
    "sweep": [("", {OWNER} | REVIEWERS, "the model's owner and reviewers see its sweeps")],
    "review submission": [
        (r" /review/| /api/submissions/\{submission_id\}/(claim|release|reviews)$", REVIEWERS,
         "reviewers work the queue, and nobody reviews her own work"),
        ("", {OWNER} | REVIEWERS, "the learner follows her submission; reviewers see its evidence"),
    ],
    "community post": [
        (r"/(hide|restore)$", MODERATORS, "only moderators hide or restore a post, not its author"),
        (r"^(PATCH|DELETE) /api/posts/\{post_id\}$|/edit$|/delete$", {OWNER} | MODERATORS,
         "the author or a moderator edits and deletes"),
        ("", SIGNED_IN, "a public post: everyone signed in reads, comments on, reacts to and reports it"),
    ],
    "comment": [
        (r"/(hide|restore)$", MODERATORS, "only moderators hide or restore a comment"),
        (r"/report$", SIGNED_IN, "everyone signed in may report a comment they can see"),
        ("", {OWNER} | MODERATORS, "the author edits and deletes it, and accepts it on her own thread; "
                                   "moderators may do all of that"),
    ],
    "report": [("", MODERATORS, "reports are for moderators; the reporter cannot resolve her own")],
}  # fmt: skip

_SCORES = {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4}
_QUESTION_FORM = {"kind": "single", "title": "Changed", "prompt": "Changed?", "row": ["a", "b"],
                  "text-a": "yes", "text-b": "no", "right": "a"}  # fmt: skip
_QUESTION_JSON = {"lesson": 1, "kind": "single", "title": "Changed", "prompt": "Changed?",
                  "choices": [{"text": "yes", "weight": 1}, {"text": "no", "weight": 0}]}  # fmt: skip
# A valid body for every unsafe id route that reads one, so a missing check would show as a 2xx
# rather than hide behind a 422.
BODIES: dict[str, tuple[str, dict]] = {
    "PATCH /api/users/{user_id}": ("json", {"role": "admin"}),
    "POST /community/moderation/users/{user_id}/suspend": ("form", {"suspended": "1"}),
    "POST /api/lessons/{number}/check": ("json", {"answers": {}}),
    "POST /lessons/{number}/check": ("form", {}),
    "PUT /api/quiz/lessons/{number}/settings": ("json", {"pass_mark": 10}),
    "POST /instructor/lessons/{number}/pass-mark": ("form", {"pass_mark": "10"}),
    "POST /instructor/lessons/{number}/questions": ("form", _QUESTION_FORM),
    "POST /instructor/lessons/{number}/preview": ("form", {}),
    "POST /instructor/lessons/{number}/import": ("form", {"text": "::Changed:: Is it changed? {T}\n"}),
    "PUT /api/quiz/questions/{question_id}": ("json", _QUESTION_JSON),
    "POST /instructor/questions/{question_id}": ("form", _QUESTION_FORM),
    "POST /instructor/questions/{question_id}/preview": ("form", {}),
    "PATCH /api/datasets/{dataset_id}/images/{image_id}": ("json", {"caption": "sks woman, changed"}),
    "POST /lab/datasets/{dataset_id}/images/{image_id}/caption": ("form", {"caption": "sks woman, changed"}),
    "POST /lab/datasets/{dataset_id}/images/{image_id}/nudge": ("form", {"direction": "left"}),
    "POST /lab/datasets/{dataset_id}/images/{image_id}/keep": ("form", {"keep": "no"}),
    "POST /api/models/{model_id}/generate": ("json", {"prompt": "photo of sks woman", "strength": 0.8}),
    "POST /api/models/{model_id}/sweeps": ("json", {"epochs": 1, "strengths": [1.0]}),
    "POST /models/{model_id}/generations": ("form", {"prompt": "photo of sks woman", "strength": "0.8"}),
    "POST /models/{model_id}/sweeps": ("form", {"epochs": "1"}),
    "POST /models/{model_id}/submissions": ("form", {"note": "please look"}),
    "POST /api/submissions/{submission_id}/reviews": ("json", {"scores": _SCORES, "verdict": "approved"}),
    "POST /review/{submission_id}/generate": ("form", {"prompt": "photo of sks woman", "strength": "0.8"}),
    "POST /review/{submission_id}/verdict": ("form", {**{k: str(v) for k, v in _SCORES.items()}, "verdict": "approved"}),
    "PATCH /api/posts/{post_id}": ("json", {"title": "Changed"}),
    "POST /api/posts/{post_id}/comments": ("json", {"body": "A reply"}),
    "POST /api/posts/{post_id}/reactions": ("json", {"kind": "like"}),
    "POST /api/posts/{post_id}/report": ("json", {"reason": "spam"}),
    "POST /community/posts/{post_id}/comments": ("form", {"body": "A reply"}),
    "POST /community/posts/{post_id}/report": ("form", {"reason": "spam"}),
    "POST /community/posts/{post_id}/edit": ("form", {"title": "Changed", "body": "Changed"}),
    "POST /community/posts/{post_id}/hide": ("form", {"hidden": "1"}),
    "PATCH /api/comments/{comment_id}": ("json", {"body": "Changed"}),
    "POST /api/comments/{comment_id}/report": ("json", {"reason": "spam"}),
    "POST /community/comments/{comment_id}/accept": ("form", {"accepted": "1"}),
    "POST /community/comments/{comment_id}/report": ("form", {"reason": "spam"}),
    "POST /community/comments/{comment_id}/hide": ("form", {"hidden": "1"}),
    "POST /api/moderation/reports/{report_id}": ("json", {"action": "hide"}),
    "POST /community/moderation/reports/{report_id}": ("form", {"action": "hide"}),
}  # fmt: skip

PARAM = re.compile(r"\{([^}:]+)(:[^}]*)?\}")


def _params(template: str) -> list[str]:
    return [m.group(1) for m in PARAM.finditer(template)]


def _object_of(template: str) -> str | None:
    ids = [p for p in _params(template) if ID_PARAM.search(p)]
    return OBJECT_OF_PARAM.get(ids[-1], "?" + ids[-1]) if ids else None


def _id_routes(app):
    """(method, template, route) of every route with an id in its path."""
    for template, route in _walk(app.routes):
        if _object_of(template):
            for method in sorted(route.methods):
                yield method, template, route


def allowed(rules: dict, kind: str, method: str, template: str) -> set[str]:
    """Who the rules let use this route on A's object."""
    for pattern, who, _why in rules.get(kind, []):
        if re.search(pattern, f"{method} {template}"):
            return who
    return set()


def _fill(template: str, values: dict) -> str:
    return PARAM.sub(lambda m: str(values[m.group(1)]), template)


def _as_regex(template: str) -> re.Pattern:
    """The paths a template answers (route paths hold no regex characters besides the parameters)."""
    return re.compile("^" + PARAM.sub(lambda m: ".+" if m.group(2) else "[^/]+", template) + "$")


# ---- A and her objects, built through the real services ----


@pytest.fixture(scope="session")
def tiny_lora(tmp_path_factory, settings):
    """A 2-epoch tiny-base LoRA at 64 px; its base is cached where the app looks."""
    return factories.train_tiny_lora(tmp_path_factory.mktemp("access-train"), settings.data_dir / "cache")


@pytest.fixture(scope="session")
def face_photos(tmp_path_factory) -> list[tuple[str, bytes]]:
    return [
        (p.name, p.read_bytes()) for p in write_face_set(tmp_path_factory.mktemp("access-photos"), size=512)
    ]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 90)).save(out, format="PNG")
    return out.getvalue()


def build_scene(app, db, settings, owner: User, bystander: User, tiny_lora, face_photos) -> tuple[dict, dict]:
    """One of everything, owned (or filed, or written) by A: (path parameters per object, ids)."""
    from app.community import comments, moderation, posts
    from app.community.schemas import CommentCreate, PostCreate
    from app.datasets import service as datasets
    from app.evaluate import service as evaluate
    from app.evaluate.schemas import SweepIn
    from app.lab import job_store
    from app.lab.worker import Worker
    from app.quiz import authoring
    from app.quiz.authoring_schemas import QuestionIn
    from app.review import submissions

    data_dir = settings.data_dir

    dataset, _ = datasets.create_dataset(db=db, settings=settings, user_id=owner.id, files=face_photos,
                                         name=DATASET_NAME, base="sd15")  # fmt: skip
    image = dataset.images[0]
    datasets.update_caption(db=db, dataset=dataset, image=image, caption=CAPTION)

    model = factories.make_lora_model(db, data_dir, owner, *tiny_lora, name=MODEL_NAME)
    generation = evaluate.generate(db=db, settings=settings, model=model, user=owner, prompt="photo of sks woman",
                                   strength=0.8, seed=1)  # fmt: skip
    evaluate.start_sweep(db=db, model=model, user=owner, data=SweepIn(epochs=1, strengths=[1.0]))
    db.commit()
    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)
    db.expire_all()
    sweep = evaluate.latest_sweep(db=db, model=model)
    assert sweep.result, sweep.error
    # A second model is in review, so the first can still be submitted (a missing check would show).
    submitted = factories.make_lora_model(db, data_dir, owner, *tiny_lora, name=MODEL_NAME + "_v2")
    submission = submissions.submit(
        db=db, settings=settings, user=owner, model_id=submitted.id, note="round one"
    )

    post = posts.create_post(db=db, data_dir=data_dir, author=owner, uploads=[_png()],
                                 data=PostCreate(kind="help", title="My eyes melt at 1.0", body="Help?"))  # fmt: skip
    comment = comments.add_comment(
        db=db, post=post, author=owner, data=CommentCreate(body="Solved: lower it.")
    )
    elsewhere = factories.make_post(db, bystander, data_dir=data_dir, title="Buy cheap GPUs")
    report = moderation.report(
        db=db, reporter=owner, reason=ReportReason.spam, note=REPORT_NOTE, post=elsewhere
    )

    raw_token = factories.make_token(db, owner, name=TOKEN_NAME)
    token_id = db.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id, ApiToken.name == TOKEN_NAME))
    question = authoring.add_question(db=db, lesson_number=1, data_dir=data_dir, spec=QuestionIn.model_validate({
        **_QUESTION_JSON, "title": "Rank", "prompt": "What does rank set?", "general_feedback": FEEDBACK,
        "choices": [{"text": "Capacity", "weight": 1, "feedback": FEEDBACK}, {"text": "Speed", "weight": 0}],
    }).spec())  # fmt: skip

    # A running job with one epoch's sample: cancelling it would work, so a missing check would show.
    job = factories.make_training_job(db, owner, epochs=2)
    db.commit()
    claim = job_store.claim_next(db=db, worker_id="access-matrix")
    assert claim is not None and claim.job_id == job.id
    sample = data_dir / "users" / str(owner.id) / "jobs" / str(job.id) / "sample-1.png"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_bytes(_png())
    rel = str(sample.relative_to(data_dir))
    job_store.record_epoch(db=db, claim=claim, epoch=1, step=1, loss=0.2, diffusers_path=rel, kohya_path=rel,
                      sample_path=rel)  # fmt: skip
    db.commit()

    cell = sweep.result["cells"][0]["images"][0]
    values = {
        "api token": {"token_id": token_id},
        "user": {"user_id": owner.id},
        "lesson": {"number": 1, "lesson_number": 1},
        "quiz question": {"question_id": question.id},
        "dataset": {"dataset_id": dataset.id},
        "dataset image": {"dataset_id": dataset.id, "image_id": image.id, "kind": "crop"},
        "training job": {"job_id": job.id, "epoch": 1},
        "model": {"model_id": model.id},
        "generation": {"generation_id": generation.id},
        "sweep": {"sweep_id": sweep.id, "name": cell if "/" not in cell else sweep.result["grid"]},
        "review submission": {"submission_id": submission.id, "name": "samples/epoch-001.png", "index": 0},
        "community post": {"post_id": post.id, "kind": "like", "position": 1},
        "comment": {"comment_id": comment.id},
        "report": {"report_id": report.id},
    }
    ids = {"user": owner.id, "token": token_id, "raw token": raw_token, "dataset": dataset.id, "image": image.id,
           "job": job.id}  # fmt: skip
    return values, ids


def scene_rows(ids: dict) -> dict:
    """Everything a refused call must leave alone: A's rows, and every community, review and quiz
    row (a write that slipped through adds or changes one)."""
    return {
        "account": select(User.role, User.suspended_at, User.display_name, User.email).where(User.id == ids["user"]),
        "token": select(ApiToken.name, ApiToken.revoked_at).where(ApiToken.id == ids["token"]),
        "dataset": select(Dataset.name, Dataset.photos_deleted_at).where(Dataset.id == ids["dataset"]),
        "image": select(DatasetImage.caption, DatasetImage.nudge_dx, DatasetImage.nudge_dy,
                        DatasetImage.nudge_zoom, DatasetImage.accepted).where(DatasetImage.id == ids["image"]),
        "job": select(TrainingJob.status, TrainingJob.cancel_requested).where(TrainingJob.id == ids["job"]),
        "models": select(LoraModel.id, LoraModel.name).where(LoraModel.user_id == ids["user"]),
        "generations": select(Generation.id, Generation.user_id),
        "sweeps": select(Sweep.id, TrainingJob.status).join(TrainingJob, TrainingJob.id == Sweep.job_id),
        "submissions": select(Submission.id, Submission.status, Submission.reviewer_id),
        "reviews": select(Review.id),
        **COMMUNITY_ROWS,
        "pass marks": select(LessonCheckSettings.lesson_number, LessonCheckSettings.pass_mark),
        "questions": select(Question.id, Question.prompt, Question.position, Question.deleted_at),
    }  # fmt: skip


COMMUNITY_ROWS = {
    "posts": select(Post.id, Post.title, Post.body, Post.hidden_at),
    "comments": select(Comment.id, Comment.body, Comment.hidden_at, Comment.accepted),
    "reactions": select(Reaction.id),
    "reports": select(Report.id, Report.status),
}


def state(app, rows: dict) -> dict[str, list]:
    with app.state.sessionmaker() as s:
        return {name: sorted((tuple(r) for r in s.execute(q)), key=repr) for name, q in rows.items()}


# ---- the matrix ----


def _send(c, method: str, url: str, body: tuple[str, dict] | None):
    if body is None:
        return c.request(method, url)
    encoding, data = body
    return c.request(method, url, json=data) if encoding == "json" else c.request(method, url, data=data)


def _leaks(actor: str, response, markers: dict[str, set[str]]) -> list[str]:
    seen = response.content + "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
    return [m for m, readers in markers.items() if actor not in readers and m.encode() in seen]


def check_matrix(
    app, actors: dict, rules: dict, values: dict, markers: dict, rows: dict
) -> tuple[list[str], dict]:
    """Call every id route of the objects in `values` as every actor; the problems found, and counts."""
    routes = [(m, t) for m, t, _ in _id_routes(app) if _object_of(t) in values]
    gets = [(_as_regex(t), _object_of(t), t) for m, t in routes if m == "GET"]

    def redirects_into_object(actor: str, response) -> bool:
        """To a page of an object the actor may not open (the sign-in page is not one)."""
        path = urlsplit(response.headers.get("location", "")).path
        match = next(((kind, t) for pattern, kind, t in gets if pattern.match(path)), None)
        return match is not None and actor not in allowed(rules, match[0], "GET", match[1])

    problems: list[str] = []
    counts = {"routes": len({t for _, t in routes}), "route methods": len(routes), "sent": 0, "refused": 0,
              "allowed writes not sent": 0}  # fmt: skip
    before = state(app, rows)
    for method, template in routes:
        kind = _object_of(template)
        who = allowed(rules, kind, method, template)
        url = _fill(template, values[kind])
        for actor, c in actors.items():
            if actor in who and method in UNSAFE:
                counts["allowed writes not sent"] += 1
                continue
            counts["sent"] += 1
            try:
                response = _send(c, method, url, BODIES.get(f"{method} {template}"))
            except Exception as error:  # the test client re-raises what would be a 500
                problems.append(f"{method} {template} [{kind}] as {actor}: raised {error!r}")
                continue
            where = f"{method} {template} [{kind}] as {actor} -> {response.status_code}"
            if actor in who:
                if response.status_code >= 400:
                    problems.append(f"{where}: refused, though the rules let {actor} in")
            else:
                counts["refused"] += 1
                if response.is_success:
                    problems.append(f"{where}: let in")
                elif response.is_redirect and redirects_into_object(actor, response):
                    problems.append(f"{where}: redirected into the object ({response.headers['location']})")
            if leaked := _leaks(actor, response, markers):
                problems.append(f"{where}: shows {leaked}")
        if (after := state(app, rows)) != before:
            changed = [name for name in before if before[name] != after[name]]
            problems.append(f"{method} {template}: A's objects changed: {changed}")
            before = after
    return problems, counts


@pytest.fixture
def actors(client_as, client):
    """A browser client per actor; A has the marked email."""
    visitor = client
    visitor.headers["X-CSRF-Token"] = csrf_token(visitor, "/login")  # so refusals come from access, not CSRF
    return {
        OWNER: client_as("learner", email=EMAIL, display_name="Ada Owner"),
        LEARNER: client_as("learner"),
        INSTRUCTOR: client_as("instructor"),
        REVIEWER: client_as("reviewer"),
        ADMIN: client_as("admin"),
        VISITOR: visitor,
    }


def test_every_id_route_follows_the_rules_for_every_role(app, db, settings, actors, tiny_lora, face_photos):
    routes = list(_id_routes(app))
    unknown = sorted({f"{t} ({_object_of(t)[1:]})" for _, t, _ in routes if _object_of(t).startswith("?")})
    assert not unknown, f"id routes with no object built here; add them to OBJECT_OF_PARAM: {unknown}"
    no_body = sorted(
        f"{m} {t}" for m, t, r in routes if m in UNSAFE and r.body_field and f"{m} {t}" not in BODIES
    )
    assert not no_body, f"unsafe id routes with no valid body in BODIES: {no_body}"

    values, ids = build_scene(
        app, db, settings, actors[OWNER].user, factories.make_user(db), tiny_lora, face_photos
    )
    unbuilt = sorted({t for _, t, _ in routes if set(_params(t)) - set(values[_object_of(t)])})
    assert not unbuilt, f"routes whose parameters the builder does not give: {unbuilt}"

    problems, counts = check_matrix(app, actors, RULES, values, MARKER_READERS, scene_rows(ids))
    print(f"\n{len(values)} kinds of object x {len(actors)} actors: {counts}")
    assert not problems, "\n".join(problems)
    # A's token still signs her in, so nothing above revoked it or erased her.
    me = actors[VISITOR].get("/api/me", headers={"Authorization": f"Bearer {ids['raw token']}"})
    assert me.status_code == 200 and me.json()["email"] == EMAIL


HIDDEN_TITLE, HIDDEN_COMMENT = "ada-hidden-post-q7", "ada-hidden-comment-q7"
HIDDEN_RULES: dict[str, list[tuple[str, set[str], str]]] = {
    "community post": [
        (r"/(hide|restore)$", MODERATORS, "only moderators hide or restore a post, not its author"),
        ("", {OWNER} | MODERATORS, "a hidden post is seen only by its author and the moderators"),
    ],
    "comment": [
        (r"/(hide|restore)$", MODERATORS, "only moderators hide or restore a comment"),
        ("", {OWNER} | MODERATORS, "a hidden comment is seen only by its author and the moderators"),
    ],
}


def test_a_hidden_post_and_comment_are_only_for_their_author_and_moderators(app, db, settings, actors):
    from app.community import comments, moderation, posts
    from app.community.schemas import CommentCreate, PostCreate

    owner, moderator = actors[OWNER].user, factories.make_user(db, role="reviewer")
    post = posts.create_post(db=db, data_dir=settings.data_dir, author=owner, uploads=[_png()],
                                 data=PostCreate(kind="help", title=HIDDEN_TITLE, body="Help?"))  # fmt: skip
    comment = comments.add_comment(db=db, post=post, author=owner, data=CommentCreate(body=HIDDEN_COMMENT))
    moderation.set_post_hidden(db=db, post=post, moderator=moderator, hidden=True)
    moderation.set_comment_hidden(db=db, comment=comment, moderator=moderator, hidden=True)
    db.commit()
    values = {"community post": {"post_id": post.id, "kind": "like", "position": 1},
              "comment": {"comment_id": comment.id}}  # fmt: skip
    markers = {EMAIL: {OWNER}, HIDDEN_TITLE: {OWNER} | MODERATORS, HIDDEN_COMMENT: {OWNER} | MODERATORS}

    problems, counts = check_matrix(app, actors, HIDDEN_RULES, values, markers, COMMUNITY_ROWS)
    print(f"\nhidden post and comment x {len(actors)} actors: {counts}")
    assert not problems, "\n".join(problems)


def test_an_image_does_not_open_through_another_learners_dataset(app, db, settings, client_as, face_photos):
    """B names her own dataset and A's photo: the photo must belong to the dataset in the path."""
    from app.datasets import service as datasets

    owner, other = client_as("learner"), client_as("learner")
    a, _ = datasets.create_dataset(db=db, settings=settings, user_id=owner.user.id, files=face_photos[:1],
                                   name=DATASET_NAME, base="sd15")  # fmt: skip
    b, _ = datasets.create_dataset(db=db, settings=settings, user_id=other.user.id, files=face_photos[1:2],
                                   name="b's own", base="sd15")  # fmt: skip
    datasets.update_caption(db=db, dataset=a, image=a.images[0], caption=CAPTION)
    db.commit()
    mixed = f"/api/datasets/{b.id}/images/{a.images[0].id}"
    assert other.get(mixed + "/crop").status_code == 404
    refused = other.patch(mixed, json={"caption": "sks woman, changed"})
    assert refused.status_code == 404 and CAPTION not in refused.text
    db.expire_all()
    assert a.images[0].caption == CAPTION
