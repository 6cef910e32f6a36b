"""Markdown for posts and comments: markdown-it-py renders, nh3 sanitises what it produced.

Raw HTML in the source is escaped, not passed through, and the sanitiser runs on the result
anyway, so a bug in either layer alone cannot let a script, an event handler, a javascript:
link or an SVG payload through. Images are not allowed in text: pictures are uploaded, checked
and re-encoded instead, so no remote tracker or SVG can be embedded."""

import html

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
# No class or style: user text must not borrow the page's own look (a fake button, a fake flash).
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_LENGTH = 20_000


def render(text: str) -> str:
    """Safe HTML for user-written Markdown; links get rel="nofollow ugc"."""
    rendered = _md.render(text or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc",
        strip_comments=True,
    )


def excerpt(text: str, limit: int = 220) -> str:
    """A plain-text preview of Markdown for the feed (markup dropped, whitespace folded)."""
    # The template escapes again, so turn entities back into characters here.
    plain = " ".join(html.unescape(nh3.clean(_md.render(text or ""), tags=set())).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
