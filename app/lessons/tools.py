"""The interactive pieces inside lessons: the steps calculator (lesson 6), the alpha/rank
calculator (lesson 2) and the trigger checker (lesson 3), as plain functions of their inputs."""

import math
from dataclasses import dataclass
from functools import cache

from app.lessons import recipes
from app.lessons.exceptions import ToolInputInvalid
from app.trainer.configs import shipped_configs

TOKENIZER_FOLDERS = {"sdxl": "sdxl/tokenizer", "sd15": "sd15/tokenizer"}  # the shipped CLIP vocabularies
BASE_TITLES = {"sdxl": "SDXL", "sd15": "SD 1.5"}
# CLIP's BPE vocabulary lists merges in the order they were learned, most frequent first; a whole
# word among the first 30,000 of its 49,408 entries is one the base model has read very often.
COMMON_WORD_RANK = 30000
MAX_TRIGGER_CHARS = 60


@dataclass(frozen=True)
class StepsPlan:
    """A run's size by lesson 6's formula, judged against the base's recipe step budget."""

    steps: int
    per_epoch: int
    budget: tuple[int, int]
    verdict: str  # "under", "inside" or "over" the budget
    message: str


def steps_plan(*, images: int, repeats: int, epochs: int, batch_size: int, base: str) -> StepsPlan:
    """steps = images x repeats x epochs / batch size (a last, partial batch still takes a step)."""
    for name, value, top in (("images", images, 500), ("repeats", repeats, 100), ("epochs", epochs, 500)):
        if not 1 <= value <= top:
            raise ToolInputInvalid(f"{name} must be a whole number from 1 to {top}.")
    if not 1 <= batch_size <= 64:
        raise ToolInputInvalid("batch size must be a whole number from 1 to 64.")
    recipe = recipes.recipe(base)
    if recipe is None:
        known = ", ".join(r.base for r in recipes.recipes())
        raise ToolInputInvalid(f"Unknown base {base!r}: choose one of {known}.")
    per_epoch = math.ceil(images * repeats / batch_size)
    steps = per_epoch * epochs
    low, high = recipe.step_budget
    if steps < low:
        verdict, message = (
            "under",
            (
                f"Under the {recipe.title} budget of {low:,}-{high:,} steps: the face may not be learned. "
                "Add epochs or repeats."
            ),
        )
    elif steps > high:
        verdict, message = (
            "over",
            (
                f"Over the {recipe.title} budget of {low:,}-{high:,} steps: expect copying and burnt colour "
                "long before the end. Cut epochs or repeats, or plan to pick an early epoch."
            ),
        )
    else:
        verdict, message = (
            "inside",
            (
                f"Inside the {recipe.title} budget of {low:,}-{high:,} steps. Save every epoch and pick by samples."
            ),
        )
    return StepsPlan(steps=steps, per_epoch=per_epoch, budget=(low, high), verdict=verdict, message=message)


@dataclass(frozen=True)
class AlphaScale:
    """Lesson 2's update scale alpha / r, and what doubling the rank does to it."""

    scale: float
    doubled_rank: int
    doubled_scale: float
    message: str


def alpha_scale(*, rank: int, alpha: float) -> AlphaScale:
    """alpha / r now and at twice the rank with the same alpha."""
    if not 1 <= rank <= 1024:
        raise ToolInputInvalid("rank must be a whole number from 1 to 1024.")
    if not 0 < alpha <= 4096:
        raise ToolInputInvalid("alpha must be a number above 0 and at most 4096.")
    scale, doubled = alpha / rank, alpha / (2 * rank)
    message = (
        f"At rank {rank} and alpha {alpha:g} the update is scaled by {scale:g}. At rank {2 * rank} with "
        f"the same alpha it is {doubled:g}, half as strong: like halving the learning rate. "
        f"Set alpha to {2 * alpha:g} to keep the scale at {scale:g}."
    )
    return AlphaScale(scale=scale, doubled_rank=2 * rank, doubled_scale=doubled, message=message)


@dataclass(frozen=True)
class TokenReport:
    """How a base model's CLIP tokenizer reads a proposed trigger."""

    text: str
    base: str
    tokens: list[str]
    count: int
    common_word: bool  # one whole-word token the base model has read very often
    known_word: bool  # one whole-word token at all: it may already mean something ("sks" is a rifle)
    message: str


@cache
def _tokenizer(base: str):
    # transformers is imported here, on first use: the web app starts without it.
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(shipped_configs() / TOKENIZER_FOLDERS[base])


def tokenize(*, text: str, base: str) -> TokenReport:
    """The CLIP tokens of `text` for that base, and whether it is a common word."""
    text = " ".join(text.split())
    if base not in TOKENIZER_FOLDERS:
        raise ToolInputInvalid(f"Unknown base {base!r}: choose sdxl or sd15.")
    if not text:
        raise ToolInputInvalid("Type a trigger to check.")
    if len(text) > MAX_TRIGGER_CHARS:
        raise ToolInputInvalid(f"A trigger is at most {MAX_TRIGGER_CHARS} characters.")
    tokenizer = _tokenizer(base)
    pieces = tokenizer.tokenize(text)
    ids = tokenizer.convert_tokens_to_ids(pieces)
    tokens = [p.removesuffix("</w>") for p in pieces]
    whole_word = len(pieces) == 1 and pieces[0].endswith("</w>")
    common = whole_word and ids[0] < COMMON_WORD_RANK
    return TokenReport(
        text=text,
        base=base,
        tokens=tokens,
        count=len(tokens),
        common_word=common,
        known_word=whole_word,
        message=_verdict(text, len(tokens), common, whole_word, BASE_TITLES[base]),
    )


def _verdict(text: str, count: int, common: bool, whole_word: bool, base_title: str) -> str:
    if common:
        return f'"{text}" is a common word for {base_title}: training on it would change what it means everywhere.'
    if count > 2:
        return (
            f'"{text}" splits into {count} tokens for {base_title}; each piece keeps its own meaning. '
            "Look for a shorter, rarer trigger."
        )
    if whole_word:
        return (
            f'"{text}" is one rare token for {base_title}: a good handle, as long as it has no meaning you '
            'would not want in your pictures ("sks" is also the name of a rifle).'
        )
    return f'"{text}" takes {count} tokens for {base_title} and is not a common word: a workable trigger.'


# ---- the tools as forms: query values in, a result or an error out ----

TOOL_LESSONS = {"alpha": 2, "trigger": 3, "steps": 6}  # which lesson holds each tool
TOOL_DEFAULTS = {
    "alpha": {"rank": "16", "alpha": "16"},
    "trigger": {"text": "", "base": "sdxl"},
    "steps": {"images": "15", "repeats": "10", "epochs": "10", "batch_size": "1", "base": "sdxl"},
}


@dataclass(frozen=True)
class ToolRun:
    """One use of a tool: the values as typed, and its result or the reason there is none."""

    name: str
    values: dict[str, str]
    result: StepsPlan | AlphaScale | TokenReport | None = None
    error: str = ""


def _whole(values: dict[str, str], name: str) -> int:
    raw = values.get(name, "").strip()
    if not raw.isdigit():
        raise ToolInputInvalid(f"{name.replace('_', ' ')} must be a whole number.")
    return int(raw)


def _number(values: dict[str, str], name: str) -> float:
    try:
        value = float(values.get(name, "").strip())
    except ValueError:
        raise ToolInputInvalid(f"{name} must be a number.") from None
    if not math.isfinite(value):
        raise ToolInputInvalid(f"{name} must be a number.")
    return value


def _compute(name: str, v: dict[str, str]):
    if name == "steps":
        return steps_plan(
            images=_whole(v, "images"),
            repeats=_whole(v, "repeats"),
            epochs=_whole(v, "epochs"),
            batch_size=_whole(v, "batch_size"),
            base=v.get("base", ""),
        )
    if name == "alpha":
        return alpha_scale(rank=_whole(v, "rank"), alpha=_number(v, "alpha"))
    return tokenize(text=v.get("text", ""), base=v.get("base", ""))


def run_tool(name: str, params: dict[str, str], *, compute: bool = True) -> ToolRun:
    """The tool's values (defaults filled in) and its result; bad values give an error instead."""
    values = {key: str(params.get(key, default))[:100] for key, default in TOOL_DEFAULTS[name].items()}
    if not compute:
        return ToolRun(name=name, values=values)
    try:
        return ToolRun(name=name, values=values, result=_compute(name, values))
    except ToolInputInvalid as exc:
        return ToolRun(name=name, values=values, error=exc.detail)
