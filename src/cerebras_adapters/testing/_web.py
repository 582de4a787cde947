"""OpenRouter's request plugins and its web search, emulated offline (docs/api-facts.md#openrouter-web-search).

This module owns what OpenRouter does with ``plugins`` and with the ``:online`` model suffix before the request goes
upstream: checking the plugin list against OpenRouter's schema (known plugin ids; the web plugin's ``engine``,
``max_results``, ``search_prompt``, ``include_domains`` / ``exclude_domains`` typed as documented; other plugins pass
with their own fields), running a **fake, deterministic search** (results derived from the user's words and the
domain filters, never fetched), adding the results to the prompt the way the plugin's ``search_prompt`` does, and
making the answer cite them: markdown links named by domain, each with a ``url_citation`` annotation whose
``start_index`` / ``end_index`` are the exact span of the link in the final content (``content[start:end]``, in code
points; the links are ASCII). The search is charged per result, as OpenRouter charges for Exa.

It must not validate or generate the Cerebras request (``_validation``, ``_generation``) or encode the reply
(``_wire``); it must not import the client's modules.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ._errors import openrouter_error
from ._generation import Completion, content_text
from ._tokens import tokenize

__all__ = ["ONLINE_SUFFIX", "SEARCH_PRICE_PER_RESULT", "SearchResult", "WebSearch", "cite", "parse_plugins"]

#: ``model: "<id>:online"`` is exactly the web plugin with its defaults.
ONLINE_SUFFIX = ":online"
#: the plugin ids OpenRouter's OpenAPI ``ChatRequest.plugins`` lists (a discriminated union on ``id``).
PLUGIN_IDS = (
    "auto-router",
    "auto-beta-router",
    "moderation",
    "web",
    "web-fetch",
    "file-parser",
    "response-healing",
    "context-compression",
    "pareto-router",
    "fusion",
)
WEB_ENGINES = ("native", "exa", "firecrawl", "parallel", "perplexity")
#: docs/api-facts.md#openrouter-web-search: $4 per 1000 results; ``max_results`` defaults to 5.
SEARCH_PRICE_PER_RESULT = 0.004
DEFAULT_MAX_RESULTS = 5
#: how many pages the fake index holds per query (a search never returns more).
INDEX_SIZE = 10
DEFAULT_SEARCH_PROMPT = (
    "A web search was conducted. Incorporate the following web search results into your response. "
    "IMPORTANT: Cite them using markdown links named using the domain of the source."
)
_DEFAULT_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "news.example.com",
    "docs.example.org",
    "blog.example.net",
    "research.example.edu",
)
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_QUESTION_WORDS = frozenset(
    {"what", "which", "when", "where", "does", "about", "latest", "tell", "with", "from", "that"}
)


@dataclass(frozen=True)
class SearchResult:
    url: str
    title: str
    content: str
    domain: str


@dataclass
class WebSearch:
    """The web plugin's settings for one request, and (after ``run``) its results."""

    engine: str = "exa"
    max_results: int = DEFAULT_MAX_RESULTS
    search_prompt: str = DEFAULT_SEARCH_PROMPT
    include_domains: list[str] = field(default_factory=list)
    exclude_domains: list[str] = field(default_factory=list)
    results: list[SearchResult] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return round(len(self.results) * SEARCH_PRICE_PER_RESULT, 12)

    def run(self, messages: list[Any]) -> list[Any]:
        """Search for the last user message's words; return the messages with the results added before it."""
        last_user = max(
            (i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"), default=-1
        )
        query = content_text(messages[last_user].get("content")) if last_user >= 0 else ""
        self.results = _search(query, self.max_results, self.include_domains, self.exclude_domains)
        if not self.results:
            return messages
        listing = "\n\n".join(f"[{r.domain}]({r.url})\nTitle: {r.title}\n{r.content}" for r in self.results)
        note = {"role": "system", "content": f"{self.search_prompt}\n\n{listing}"}
        at = last_user if last_user >= 0 else len(messages)
        return [*messages[:at], note, *messages[at:]]


def _fail(message: str) -> Exception:
    return openrouter_error(400, message)


def _string_list(plugin: dict[str, Any], name: str, where: str) -> list[str]:
    value = plugin.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(f'{where}.{name}: Expected an array of non-empty domain strings (e.g. "example.com")')
    return [v.strip().lower() for v in value]


def parse_plugins(plugins: Any, online: bool) -> WebSearch | None:
    """The web search a request asks for (``plugins`` and/or the ``:online`` suffix), or None; 400 for a bad list."""
    web: WebSearch | None = WebSearch() if online else None
    if plugins is None:
        return web
    if not isinstance(plugins, list):
        raise _fail("plugins: Expected array")
    for i, plugin in enumerate(plugins):
        where = f"plugins.{i}"
        if not isinstance(plugin, dict):
            raise _fail(f"{where}: Expected object")
        pid = plugin.get("id")
        if pid not in PLUGIN_IDS:
            expected = " | ".join(f"'{p}'" for p in PLUGIN_IDS)
            raise _fail(f"{where}.id: Invalid discriminator value. Expected {expected}, received {pid!r}")
        if pid != "web":
            continue
        if plugin.get("enabled") is not None and not isinstance(plugin.get("enabled"), bool):
            raise _fail(f"{where}.enabled: Expected boolean")
        engine = plugin.get("engine")
        if engine is not None and engine not in WEB_ENGINES:
            raise _fail(f"{where}.engine: Invalid enum value. Expected {' | '.join(WEB_ENGINES)}, received {engine!r}")
        max_results = plugin.get("max_results")
        if max_results is not None and (
            isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
        ):
            raise _fail(f"{where}.max_results: Expected an integer of at least 1")
        prompt = plugin.get("search_prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise _fail(f"{where}.search_prompt: Expected string")
        include = _string_list(plugin, "include_domains", where)
        exclude = _string_list(plugin, "exclude_domains", where)
        if plugin.get("enabled") is False:
            web = None
            continue
        web = WebSearch(
            engine=engine or "exa",
            max_results=max_results or DEFAULT_MAX_RESULTS,
            search_prompt=prompt or DEFAULT_SEARCH_PROMPT,
            include_domains=include,
            exclude_domains=exclude,
        )
    return web


def _matches(domain: str, path: str, pattern: str) -> bool:
    """Whether a page (domain + path) matches a domain filter: ``example.com``, ``*.substack.com`` or
    ``openai.com/blog``."""
    host, _, prefix = pattern.partition("/")
    if host.startswith("*."):
        ok = domain.endswith(host[1:])
    else:
        ok = domain == host or domain.endswith("." + host)
    return ok and path.startswith(prefix)


def _search(query: str, wanted: int, include: list[str], exclude: list[str]) -> list[SearchResult]:
    words = [w for w in (w.lower() for w in _WORD_RE.findall(query)) if len(w) > 3 and w not in _QUESTION_WORDS]
    words = words[:5] or ["search"]
    digest = hashlib.sha256(query.encode()).hexdigest()
    slug = "-".join(words)[:60].rstrip("-")
    topic = " ".join(words).capitalize()
    if include:
        # Each filter stands for a site: a wildcard becomes one subdomain, a path filter keeps its path.
        sites = []
        for pattern in include:
            host, _, prefix = pattern.partition("/")
            sites.append((("www" + host[1:]) if host.startswith("*.") else host, prefix))
    else:
        sites = [(d, "") for d in _DEFAULT_DOMAINS]
    results: list[SearchResult] = []
    for n in range(INDEX_SIZE):
        if len(results) >= wanted:
            break
        domain, prefix = sites[n % len(sites)]
        path = f"{prefix}/{slug}-{digest[n * 2 : n * 2 + 6]}".lstrip("/")
        if any(_matches(domain, path, p) for p in exclude):
            continue
        results.append(
            SearchResult(
                url=f"https://{domain}/{path}",
                title=f"{topic}: result {n + 1} ({domain})",
                content=f"Emulated search result {n + 1} about {' '.join(words)} from {domain}. "
                "No page was fetched; the Cerebras emulator made this text up.",
                domain=domain,
            )
        )
    return results


def cite(completion: Completion, search: WebSearch, budget: int | None) -> list[dict[str, Any]]:
    """Append a "Sources" line of markdown links to a text answer and return its ``url_citation`` annotations
    (none for a tool-call or truncated answer, or when the links would not fit the completion budget)."""
    if not search.results or not completion.has_content or completion.tool_calls:
        return []
    if completion.finish_reason != "stop":
        return []
    text = "".join(completion.content_pieces)
    if text.lstrip().startswith(("{", "[")):
        return []  # a JSON answer stays JSON
    links = [f"[{r.domain}]({r.url})" for r in search.results]
    tail = ("\n\n" if text else "") + "Sources: " + ", ".join(links) + "."
    tokens = tokenize(tail)
    if budget is not None and completion.completion_tokens + len(tokens) > budget:
        return []
    annotations = []
    position = len(text) + len(tail) - len(", ".join(links)) - 1
    for result, link in zip(search.results, links, strict=True):
        annotations.append(
            {
                "type": "url_citation",
                "url_citation": {
                    "url": result.url,
                    "title": result.title,
                    "content": result.content,
                    "start_index": position,
                    "end_index": position + len(link),
                },
            }
        )
        position += len(link) + 2
    completion.content_pieces = [*completion.content_pieces, *tokens]
    completion.completion_tokens += len(tokens)
    return annotations
