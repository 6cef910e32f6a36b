"""User Markdown renders to inert HTML: no scripts, handlers, javascript: links or SVG."""

from html.parser import HTMLParser

import pytest

from app.community.markdown import excerpt, render

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)><circle r=5 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+PC9zdmc+)",
    "![x](https://evil.example/payload.svg)",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "[a](<javascript:alert(1)>)",
    "<details open ontoggle=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


C0_AND_SPACE = "".join(chr(i) for i in range(33))


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_inert(payload):
    elements = _Elements(render(payload)).elements

    assert {tag for tag, _ in elements} <= {"p", "a", "code", "pre", "strong", "em"}
    for tag, attrs in elements:
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        if tag == "a":
            # What a browser's URL parser acts on: entities decoded (done by the parser above),
            # tabs and newlines removed anywhere, control characters and spaces trimmed.
            href = attrs.get("href", "").translate({9: None, 10: None, 13: None}).strip(C0_AND_SPACE).lower()
            assert not href.startswith(("javascript:", "vbscript:", "data:")), href
            assert attrs["rel"] == "nofollow ugc"


def test_markdown_formatting_survives():
    html = render("**bold** _it_ `x < y`\n\n- one\n- two\n\n> quoted\n\n```\ncode()\n```")

    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>x &lt; y</code>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html and "<pre><code>code()" in html


def test_links_get_nofollow_ugc_and_keep_safe_schemes():
    html = render("[docs](https://example.com/a?b=1) and [mail](mailto:a@example.com)")

    assert html.count('rel="nofollow ugc"') == 2
    assert 'href="https://example.com/a?b=1"' in html and 'href="mailto:a@example.com"' in html


def test_raw_html_is_shown_as_text_not_markup():
    html = render('<b onmouseover="x()">hi</b>')

    assert "&lt;b onmouseover=" in html and "<b" not in html


def test_excerpt_is_plain_text_and_short():
    text = excerpt("# Title\n\n**Bold** <script>x</script> " + "word " * 100, limit=60)

    assert "&lt;" not in text and "<strong>" not in text
    assert text.startswith("Title Bold") and text.endswith("…") and len(text) <= 60
