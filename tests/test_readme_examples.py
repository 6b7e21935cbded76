"""Every Python example in the README, run as written, prints what its comments say.

Each ``print(...)`` statement whose trailing comment starts with a value (a number, ``[``,
``-``, ``True``/``False``) is checked: the line it prints must equal the comment's value, whitespace
aside, up to an annotation in parentheses. A print spread over several lines takes the values of
all its lines' comments, in order. Comments that are prose (``# exact bytes / rounds``) are not
values and are not checked.
"""
import ast
import contextlib
import io
import re
import tokenize
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_VALUE = re.compile(r"^(?:[-\[\d]|True\b|False\b)")


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _expected_value(comment: str) -> str | None:
    text = comment.lstrip("#").strip()
    if not _VALUE.match(text):
        return None
    return re.split(r"\s+\(", text, maxsplit=1)[0].strip()


def expected_prints(code: str) -> list[str | None]:
    """For each top-level print statement in order: the value its comments state, or None."""
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
    out = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, "id", None) == "print":
            vals = [_expected_value(comments[ln]) for ln in range(node.lineno, node.end_lineno + 1) if ln in comments]
            vals = [v for v in vals if v is not None]
            out.append(" ".join(vals) if vals else None)
    return out


def _norm(s: str) -> str:
    return " ".join(s.split())


def test_the_parser_reads_values_and_skips_prose():
    code = ('print(1)   # [ 3.   -8.   -0.75]  (exact truncation)\n'
            'print(2)   # exact bytes / rounds\n'
            'print(3,   # 1.158\n'
            '      4)   # 1964\n'
            'x = 5      # 6\n')
    assert expected_prints(code) == ["[ 3.   -8.   -0.75]", None, "1.158 1964"]


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_example_prints_what_it_says(index, monkeypatch, tmp_path):
    code = _blocks()[index]
    if "privacy" in code:
        pytest.importorskip("dp_accounting")
    want = expected_prints(code)
    assert any(w is not None for w in want), "an example without a checked value"
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    printed = []
    orig_print = print

    def spy(*args, **kw):  # one printed line per print statement
        buf = io.StringIO()
        orig_print(*args, **{**kw, "file": buf})
        printed.append(buf.getvalue().rstrip("\n"))

    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, f"README example {index}", "exec"), {"print": spy, "__name__": "__readme__"})
    assert len(printed) == len(want)
    for got, exp in zip(printed, want):
        if exp is not None:
            assert _norm(got) == _norm(exp), f"README example {index} prints {got!r}, its comment says {exp!r}"
