"""Recipe cards: starting values per base for a face LoRA and the range to search, read from
app/lessons/content/recipes.yaml. Lesson 6 shows them as one table with a column per base, and
the steps calculator judges a plan against a base's step budget."""

from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

import yaml

RECIPES_FILE = Path(__file__).resolve().parent / "content" / "recipes.yaml"


@dataclass(frozen=True)
class RecipeRow:
    setting: str
    start: str
    range: str


@dataclass(frozen=True)
class Recipe:
    base: str  # "sdxl", "sd15", "flux", as datasets and the trainer name them
    title: str
    step_budget: tuple[int, int]  # total steps for 15-25 photos at batch size 1
    rows: tuple[RecipeRow, ...]


@cache
def recipes() -> tuple[Recipe, ...]:
    """Every recipe card, in the order written."""
    raw = yaml.safe_load(RECIPES_FILE.read_text(encoding="utf-8"))
    return tuple(
        Recipe(
            base=r["base"],
            title=r["title"],
            step_budget=(int(r["step_budget"][0]), int(r["step_budget"][1])),
            rows=tuple(RecipeRow(str(x["setting"]), str(x["start"]), str(x["range"])) for x in r["rows"]),
        )
        for r in raw
    )


def recipe(base: str) -> Recipe | None:
    """The recipe card of that base, or None."""
    return next((r for r in recipes() if r.base == base), None)


def table_html() -> str:
    """All cards as one table: a row per setting, a column per base (start value, then range)."""
    cards = recipes()
    settings = list(dict.fromkeys(row.setting for r in cards for row in r.rows))
    head = "".join(f'<th scope="col">{escape(r.title)}</th>' for r in cards)
    body = []
    for setting in settings:
        cells = []
        for r in cards:
            row = next((x for x in r.rows if x.setting == setting), None)
            cells.append(
                f'<td><strong>{escape(row.start)}</strong><br><span class="recipe-range">search: '
                f"{escape(row.range)}</span></td>"
                if row
                else "<td>not given</td>"
            )
        body.append(f'<tr><th scope="row">{escape(setting)}</th>{"".join(cells)}</tr>')
    return (
        '<div class="table-scroll recipe-cards"><table class="table recipe-table">'
        "<caption>Recipe cards: starting value, then the range to search</caption>"
        f'<thead><tr><th scope="col">Setting</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
