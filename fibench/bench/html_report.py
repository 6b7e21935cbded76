"""Single-file HTML report (``fibench report RUN --html FILE``), rendered with Jinja2.

One section per suite run (a ``fibench run all`` directory holds one run per suite in
``DIR/<suite>/``): the header of the markdown report, the run's meta (commit, package
versions, CPU, resolved config, history), the same summary tables, and every PNG of
``figures/`` embedded as a base64 ``data:`` URI, so the file reads offline and can be mailed.
No matplotlib is imported here; the figures are the ones ``fibench run``/``fibench plot`` wrote.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import jinja2

from fibench.bench import results as res
from fibench.bench.report import collect, fmt

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f0f0f0; }
td.l, th.l { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
section.suite { border-top: 2px solid #888; margin-top: 2em; }
nav li { margin: 0.2em 0; }
div.scroll { overflow-x: auto; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% if sections|length > 1 %}
<nav><ul>{% for s in sections %}<li><a href="#{{ s.anchor }}">{{ s.suite }}</a></li>{% endfor %}</ul></nav>
{% endif %}
{% for s in sections %}
<section class="suite" id="{{ s.anchor }}">
{% if sections|length > 1 %}<h2>{{ s.title }}</h2>{% endif %}
{% if s.description %}<p>{{ s.description }}</p>{% endif %}
<table class="info">
{% for k, v in s.info %}<tr><th class="l">{{ k }}</th><td class="l">{{ v }}</td></tr>
{% endfor %}
</table>
{% if s.empty %}<p><em>no results yet</em></p>{% endif %}
{% if s.figures %}
<h3>Figures</h3>
{% for f in s.figures %}
<figure><img src="data:image/png;base64,{{ f.data }}" alt="{{ f.name }}"><figcaption>{{ f.name }}</figcaption></figure>
{% endfor %}
{% endif %}
{% for t in s.tables %}
<h3>{{ t.title }}</h3>
<div class="scroll"><table class="results">
<thead><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table></div>
{% endfor %}
<h3>Environment</h3>
<table class="env">
{% for k, v in s.env %}<tr><th class="l">{{ k }}</th><td class="l">{{ v }}</td></tr>
{% endfor %}
</table>
<h3>Package versions</h3>
<table class="versions">
{% for k, v in s.versions %}<tr><th class="l">{{ k }}</th><td class="l">{{ v }}</td></tr>
{% endfor %}
</table>
<h3>Configuration</h3>
<pre>{{ s.config }}</pre>
{% if s.history %}
<h3>History</h3>
<table class="history">
<thead><tr><th class="l">event</th><th class="l">time</th><th class="l">commit</th><th class="l">command</th></tr></thead>
<tbody>
{% for h in s.history %}<tr><td class="l">{{ h.event }}</td><td class="l">{{ h.time }}</td><td class="l">{{ h.commit }}</td><td class="l">{{ h.argv }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>
{% endfor %}
</body>
</html>
"""


def _table(title: str, df) -> dict:
    return {"title": title, "columns": [str(c) for c in df.columns],
            "rows": [[str(v) if isinstance(v, str) else fmt(v) for v in row] for row in df.itertuples(index=False)]}


def _section(run_dir: Path) -> dict:
    data = collect(run_dir)
    meta = data["meta"]
    env = meta.get("environment", {}) or {}
    git = env.get("git", {}) or {}
    cpu = env.get("cpu", {}) or {}
    figures = []
    fig_dir = res.RunDir(run_dir).figures
    if fig_dir.is_dir():
        for png in sorted(fig_dir.glob("*.png")):
            if png.name.startswith("."):
                continue
            figures.append({"name": png.name, "data": base64.b64encode(png.read_bytes()).decode("ascii")})
    suite = str(meta.get("suite"))
    history = [{"event": h.get("event"), "time": h.get("time"),
                "commit": (h.get("commit") or "") + (" (dirty)" if h.get("dirty") else ""),
                "argv": " ".join(map(str, h.get("argv") or []))}
               for h in meta.get("history", []) if isinstance(h, dict)]
    return {
        "suite": suite, "anchor": "suite-" + "".join(ch if ch.isalnum() else "-" for ch in suite),
        "title": data["title"], "description": data["description"], "info": data["info"],
        "empty": data["empty"], "tables": [_table(t, df) for t, df in data["tables"]],
        "figures": figures,
        "env": [("commit", git.get("commit")), ("branch", git.get("branch")), ("dirty", git.get("dirty")),
                ("host", env.get("host")), ("CPU", cpu.get("model")),
                ("cores (usable / total)", f"{cpu.get('usable')} / {cpu.get('count')}"),
                ("system", cpu.get("system")), ("numba threads", cpu.get("numba_threads"))],
        "versions": sorted((env.get("packages") or {}).items()),
        "config": json.dumps(meta.get("config", {}), indent=2, sort_keys=True, default=res.json_default),
        "history": history,
    }


def run_dirs(path) -> list[Path]:
    """``[path]`` for one run; the suite runs of a ``run all`` directory (sorted); else []."""
    path = Path(path)
    if (path / res.META).is_file():
        return [path]
    if path.is_dir():
        return sorted(p.parent for p in path.glob(f"*/{res.META}"))
    return []


def render_html(path) -> str:
    """The HTML report of a run directory or of a ``run all`` directory."""
    dirs = run_dirs(path)
    if not dirs:
        raise FileNotFoundError(f"{path} is not a fibench run directory (no {res.META}) "
                                f"nor a directory of suite runs (no */{res.META})")
    sections = [_section(d) for d in dirs]
    title = sections[0]["title"] if len(sections) == 1 else f"fibench runs: {Path(path).name}"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(title=title, sections=sections)


def write_html(path, out) -> Path:
    return res.atomic_write_text(out, render_html(path))
