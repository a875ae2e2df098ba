"""Knowledge sources behind ``KnowledgeQuery``: a local paragraph corpus (BM25) or live Wikipedia.

Both return a page's text in the original's item format (docs/original.md, "Complex-QA tools"), one
string per paragraph or sentence, ``"<title> *** <text>"`` (plus ``"Reference Table: *** <table>"`` for
Wikipedia tables):

    R1 = KnowledgeQuery(Shirley Temple)
    -> ["Shirley Temple *** Shirley Temple Black (April 23, 1928 - February 10, 2014) was ..."]

``LocalKnowledge`` (the offline default, ``--knowledge local --corpus FILE``) reads one page per title from

* HotpotQA's official files (``hotpot_dev_distractor_v1.json``, ``hotpot_train_v1.1.json``): a JSON list of
  ``{"_id", "question", "answer", ..., "context": [["Ed Wood", ["Edward Davis Wood Jr. was ...", " He ..."]], ...]}``;
  every question's 10 paragraphs (2 gold, 8 distractors) join one shared corpus;
* the Hugging Face ``hotpot_qa`` layout exported to JSON lines (``ds.to_json("validation.jsonl")``):
  ``{"id", "question", "answer", ..., "context": {"title": ["Ed Wood", ...], "sentences": [["Edward ...", " He ..."], ...]}}``;
* IRCoT-style HotpotQA jsonl (``hotpotqa/ircot_dev_subsampled.jsonl``): each line
  ``{"question_id", "question_text", "contexts": [{"title", "paragraph_text", ...}], ...}``;
* StrategyQA paragraphs json (``strategyqa_dev_paragraphs.json``):
  ``{"Title-3": {"title", "content", "para_index"}}``;
* a plain jsonl (or JSON list) of ``{"title": ..., "paragraph_text": ...}``, e.g. a Wikipedia dump converted
  to it (HotpotQA's 2017 intro paragraphs, one line per article) for the open-domain setting.

A HotpotQA paragraph is its sentences joined as they are (each sentence after the first carries its
leading space). The same paragraph met under many questions is kept once.

A query that equals a page title (case-insensitive) returns that page; one that equals a title
without its parenthetical (``Kiss and Tell`` -> ``Kiss and Tell (1945 film)``) returns every such
page (the original's disambiguation path); otherwise the best ``top_pages`` pages by BM25 (bm25s)
over title + text (the original's search-results path). The BM25 index is built once and stored
under ``<index_dir>/<sha256 of the corpus file>``; later runs load it.

``WikipediaKnowledge`` (``--knowledge wikipedia``) ports the original ``search_step`` (search page
-> up to 5 titles; disambiguation -> up to 10 links; article -> first 20 table rows and the
sentences of paragraphs longer than 10 words, 40 sentences, 15 per page on the second hop) with
httpx, a timeout and a User-Agent. Only URLs under ``base_url`` are ever fetched.

Exercise: ``pytest tests/tools/test_knowledge.py``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lumos.tools.base import ToolCall, ToolError
from lumos.tools.mathtext import substitute
from lumos.utils.io import DataFormatError, file_sha256, iter_jsonl, read_json

logger = logging.getLogger(__name__)

TITLE_SEP = "***"
ENTRY_SEP = "*****"
TABLE_SEP = "+++++"
REFERENCE_TABLE = "Reference Table:"
INDEX_VERSION = "v1"
Granularity = Literal["paragraph", "sentence"]


def import_bm25s() -> Any:
    """``bm25s``, imported lazily with its per-call DEBUG chatter silenced."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def default_cache_dir() -> Path:
    """``$LUMOS_CACHE_DIR`` or ``~/.cache/lumos``."""
    return Path(os.environ.get("LUMOS_CACHE_DIR") or Path.home() / ".cache" / "lumos")


@dataclass(frozen=True)
class Page:
    """A titled page and its paragraphs, in corpus order."""

    title: str
    paragraphs: tuple[str, ...]


def item(title: str, text: str) -> str:
    """One knowledge item: ``"<title> *** <text>"``."""
    return f"{title} {TITLE_SEP} {text}"


def split_item(entry: str) -> tuple[str, str]:
    """``"<title> *** <text>"`` -> (title, text); an entry without ``***`` has an empty title."""
    if TITLE_SEP in entry:
        title, _, text = entry.partition(TITLE_SEP)
        return title.strip(), text.strip()
    return "", re.sub(r"^Evidence \d+:\s*", "", entry.strip())


def sentences(paragraphs: list[str] | tuple[str, ...], limit: int | None = None) -> list[str]:
    """The original's ``get_page_obs``: split on ``". "``, re-add the period, keep the first ``limit``.

    (Fixed: a sentence that already ends with a period does not get a second one.)
    """
    out: list[str] = []
    for p in paragraphs:
        out += [s if s.endswith(".") else s + "." for s in (x.strip() for x in p.split(". ")) if s]
    return out[:limit] if limit else out


# ------------------------------------------------------------------------------------------------
# Corpus files
# ------------------------------------------------------------------------------------------------
def _field(record: dict, name: str, where: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise DataFormatError(f"{where}: field {name!r} missing or not a string")
    return value


def hotpot_context(record: dict, where: str) -> list[tuple[str, str]]:
    """(title, paragraph) of each entry of a HotpotQA record's ``context``, official or Hugging Face layout.

    Official: ``[[title, [sentence, ...]], ...]``; Hugging Face: ``{"title": [...], "sentences": [[...], ...]}``.
    A paragraph is its sentences joined as they are.

    Raises:
        DataFormatError: naming ``where`` and the malformed part.
    """
    ctx = record.get("context")
    if isinstance(ctx, dict):
        titles, sents = ctx.get("title"), ctx.get("sentences")
        if not isinstance(titles, list) or not isinstance(sents, list) or len(titles) != len(sents):
            raise DataFormatError(f"{where}: field 'context' needs lists 'title' and 'sentences' of equal length")
        pairs = list(zip(titles, sents))
    elif isinstance(ctx, list):
        if not all(isinstance(e, list | tuple) and len(e) == 2 for e in ctx):
            raise DataFormatError(f"{where}: field 'context' is not a list of [title, [sentences]]")
        pairs = [(e[0], e[1]) for e in ctx]
    else:
        raise DataFormatError(f"{where}: field 'context' missing or neither a list nor a {{title, sentences}} object")
    out = []
    for j, (title, sentence_list) in enumerate(pairs):
        if not isinstance(title, str) or not isinstance(sentence_list, list) or not all(
            isinstance(x, str) for x in sentence_list
        ):
            raise DataFormatError(f"{where}: context entry {j} is not a title with a list of sentences")
        out.append((title, "".join(sentence_list)))
    return out


def _record_paragraphs(rec: Any, where: str) -> list[tuple[str, str]]:
    """The (title, paragraph) pairs of one corpus record, whatever its format (see the module docstring)."""
    if not isinstance(rec, dict):
        raise DataFormatError(f"{where}: expected an object, got {type(rec).__name__}")
    if "contexts" in rec:  # IRCoT
        if not isinstance(rec["contexts"], list):
            raise DataFormatError(f"{where}: field 'contexts' is not a list")
        return [(_field(ctx, "title", f"{where} contexts[{j}]"), _field(ctx, "paragraph_text", f"{where} contexts[{j}]"))
                for j, ctx in enumerate(rec["contexts"])]  # fmt: skip
    if "context" in rec:  # HotpotQA, official or Hugging Face
        return hotpot_context(rec, where)
    return [(_field(rec, "title", where), _field(rec, "paragraph_text", where))]


def _iter_paragraphs(path: Path) -> Iterator[tuple[str, str]]:
    if path.suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict):  # StrategyQA paragraphs: {"Title-idx": {title, content, para_index}}
            rows = []
            for key, rec in data.items():
                if not isinstance(rec, dict):
                    raise DataFormatError(f"{path}: entry {key!r} is not an object")
                idx = rec.get("para_index", 0)
                rows.append((_field(rec, "title", f"{path}: entry {key!r}"), idx if isinstance(idx, int) else 0,
                             _field(rec, "content", f"{path}: entry {key!r}")))  # fmt: skip
            for title, _, text in sorted(rows, key=lambda r: (r[0], r[1])):
                yield title, text
            return
        if isinstance(data, list):
            for i, rec in enumerate(data):
                yield from _record_paragraphs(rec, f"{path}: item {i}")
            return
        raise DataFormatError(f"{path}: expected an object or a list of paragraphs, got {type(data).__name__}")
    for lineno, rec in iter_jsonl(path):
        yield from _record_paragraphs(rec, f"{path}:{lineno}")


def load_corpus(path: str | Path) -> list[Page]:
    """Read a corpus file into pages (paragraphs de-duplicated, first-seen order). See the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file not found: {path}")
    pages: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for title, text in _iter_paragraphs(path):
        title, text = title.strip(), " ".join(text.split())
        if not title or not text or (title, text) in seen:
            continue
        seen.add((title, text))
        pages.setdefault(title, []).append(text)
    if not pages:
        raise DataFormatError(f"{path}: no paragraphs found")
    return [Page(t, tuple(ps)) for t, ps in pages.items()]


def _norm_title(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").split()).strip(" .?!\"'")


def _base_title(title: str) -> str:
    return _norm_title(re.sub(r"\s*\([^)]*\)\s*$", "", title))


# ------------------------------------------------------------------------------------------------
# Local corpus + BM25
# ------------------------------------------------------------------------------------------------
class LocalKnowledge:
    """Pages of a local corpus file, found by title or by BM25. Loaded lazily, index cached on disk.

    Args:
        corpus: a corpus file (see the module docstring).
        index_dir: where BM25 indexes live (default ``$LUMOS_CACHE_DIR/knowledge``).
        top_pages: pages returned for a query that matches no title.
        granularity: one item per ``paragraph`` (default) or per ``sentence`` (as the original's
            Wikipedia scraping; at most 40 for one page, 15 per page for several).
    """

    def __init__(self, corpus: str | Path, *, index_dir: str | Path | None = None, top_pages: int = 5,
                 granularity: Granularity = "paragraph") -> None:  # fmt: skip
        if granularity not in ("paragraph", "sentence"):
            raise ValueError(f"granularity must be 'paragraph' or 'sentence', got {granularity!r}")
        self.corpus = Path(corpus)
        if not self.corpus.is_file():
            raise FileNotFoundError(f"corpus file not found: {self.corpus}")
        self.index_dir = Path(index_dir) if index_dir else default_cache_dir() / "knowledge"
        self.top_pages = top_pages
        self.granularity = granularity
        self.sha = file_sha256(self.corpus)
        self.name = f"local:{self.corpus.name}:{self.sha[:12]}:{granularity}:top{top_pages}"
        self._lock = threading.Lock()
        self._pages: list[Page] | None = None
        self._retriever: Any = None
        self._by_title: dict[str, int] = {}
        self._by_base: dict[str, list[int]] = {}
        self.build_seconds: float | None = None

    @property
    def pages(self) -> list[Page]:
        self._ensure()
        assert self._pages is not None
        return self._pages

    def _index_path(self) -> Path:
        return self.index_dir / f"{self.sha[:32]}-{INDEX_VERSION}"

    def _ensure(self) -> None:
        with self._lock:
            if self._pages is not None:
                return
            bm25s = import_bm25s()

            path = self._index_path()
            if (path / "pages.jsonl").is_file() and (path / "params.index.json").is_file():
                pages = [Page(r["title"], tuple(r["paragraphs"])) for _, r in iter_jsonl(path / "pages.jsonl")]
                retriever = bm25s.BM25.load(str(path), show_progress=False)
                logger.info("loaded the BM25 index of %s (%d pages) from %s", self.corpus, len(pages), path)
            else:
                start = time.perf_counter()
                pages = load_corpus(self.corpus)
                docs = [p.title + " " + " ".join(p.paragraphs) for p in pages]
                retriever = bm25s.BM25()
                retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
                self.build_seconds = time.perf_counter() - start
                self._save(retriever, pages, path)
                logger.info("built a BM25 index over %d pages of %s in %.2f s -> %s", len(pages), self.corpus,
                            self.build_seconds, path)  # fmt: skip
            self._retriever = retriever
            self._by_title = {}
            self._by_base = {}
            for i, p in enumerate(pages):
                self._by_title.setdefault(_norm_title(p.title), i)
                self._by_base.setdefault(_base_title(p.title), []).append(i)
            self._pages = pages

    def _save(self, retriever: Any, pages: list[Page], path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
        try:
            retriever.save(str(tmp), show_progress=False)
            with open(tmp / "pages.jsonl", "w", encoding="utf-8") as f:
                for p in pages:
                    f.write(json.dumps({"title": p.title, "paragraphs": list(p.paragraphs)}, ensure_ascii=False) + "\n")
            meta = {"corpus": str(self.corpus), "sha256": self.sha, "pages": len(pages), "version": INDEX_VERSION}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            try:
                tmp.rename(path)
            except OSError:  # another process stored the same index first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def search(self, query: str, k: int) -> list[int]:
        """Indices of the best ``k`` pages by BM25 (score > 0)."""
        bm25s = import_bm25s()

        self._ensure()
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
        if not tokens or not tokens[0]:
            return []
        scores = self._retriever.get_scores(tokens[0])
        order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))[:k]
        return [i for i in order if scores[i] > 0]

    def find_pages(self, query: str) -> list[Page]:
        """Title match, else parenthetical-free title match, else BM25 top pages."""
        self._ensure()
        assert self._pages is not None
        key = _norm_title(query)
        if key in self._by_title:
            return [self._pages[self._by_title[key]]]
        if key in self._by_base:
            return [self._pages[i] for i in self._by_base[key]]
        return [self._pages[i] for i in self.search(query, self.top_pages)]

    def lookup(self, query: str) -> list[str]:
        pages = self.find_pages(query)
        if self.granularity == "paragraph":
            return [item(p.title, text) for p in pages for text in p.paragraphs]
        limit = 40 if len(pages) == 1 else 15
        return [item(p.title, s) for p in pages for s in sentences(p.paragraphs, limit)]


# ------------------------------------------------------------------------------------------------
# Live Wikipedia (the paper's backend)
# ------------------------------------------------------------------------------------------------
def clean_str(p: str) -> str:
    """The original's unicode-escape round trip (turns literal ``\\u00e9`` into ``é``); text it cannot
    convert is returned unchanged."""
    try:
        return p.encode().decode("unicode-escape").encode("latin1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        try:
            return p.encode("unicode-escape").decode("unicode-escape").encode("latin1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return p


def get_page_obs(page: str, num: int | None = None) -> str:
    """The original's sentence split of newline-separated page text, joined by ``" ***** "``."""
    paragraphs = [p.strip() for p in page.split("\n") if p.strip()]
    return f" {ENTRY_SEP} ".join(sentences(paragraphs, num))


def _href_title(href: str) -> str:
    return urllib.parse.unquote(href.rsplit("/wiki/", 1)[-1]).replace("_", " ")


class WikipediaKnowledge:
    """Live Wikipedia pages, parsed as the original's ``search_step`` did (httpx + BeautifulSoup).

    Args:
        base_url: the wiki to query (tests point it at a local fake server).
        timeout_s: per-request timeout.
        user_agent: sent with every request (Wikimedia requires one).
        transport: an ``httpx`` transport (tests).
    """

    def __init__(self, *, base_url: str = "https://en.wikipedia.org", timeout_s: float = 15.0,
                 user_agent: str = "lumos-reimplementation/0.1 (research agent; offline-first)",
                 transport: Any = None) -> None:  # fmt: skip
        import httpx

        self.base_url = base_url.rstrip("/")
        self.name = f"wikipedia:{self.base_url}"
        self._httpx = httpx
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=True, transport=transport,
                                    headers={"User-Agent": user_agent})  # fmt: skip

    def _url(self, x: str) -> tuple[str, dict[str, str] | None]:
        if x.startswith(self.base_url + "/"):
            return x, None
        if "/wiki/" in x:
            return self.base_url + x[x.find("/wiki/") :], None
        return f"{self.base_url}/w/index.php", {"search": x}

    def _get(self, x: str) -> str:
        url, params = self._url(x)
        try:
            r = self._client.get(url, params=params)
            r.raise_for_status()
        except self._httpx.HTTPError as e:
            raise ToolError(f"Wikipedia request for {x!r} failed: {type(e).__name__}: {e}") from e
        return r.text

    def search_step(self, x: str, typ: str | None = None) -> str | list[str]:
        """Search results -> titles (<= 5); disambiguation -> hrefs (<= 10); article -> sentence text."""
        from bs4 import BeautifulSoup

        response_text = self._get(x)
        soup = BeautifulSoup(response_text, features="html.parser")
        result_divs = soup.find_all("div", {"class": "mw-search-result-heading"})
        if result_divs:
            return [clean_str(div.get_text().strip()) for div in result_divs][:5]
        page_table = [p.get_text().strip() for p in soup.find_all("tr")]
        page = [p.get_text().strip() for p in soup.find_all("p") + soup.find_all("ul")]
        if any("may refer to:" in p for p in page):
            titles = []
            for href in re.findall(r"<li><a href=\"(.*?)\" title=", response_text):
                if "Category:" in href:
                    continue
                titles.append(href[: href.find('"')] if '"' in href else href)
            return titles[:10]
        table_text = "".join(clean_str(p).replace("\n", " ") + " " for p in page_table[:20])
        page_text = ""
        for p in page:
            if len(p.split(" ")) > 10:
                page_text += clean_str(p)
                if not p.endswith("\n"):
                    page_text += "\n"
        page_text = get_page_obs(page_text, 15 if typ in ("ambiguity", "failure") else 40)
        if table_text:
            page_text = table_text + f" {TABLE_SEP} " + page_text
        return page_text

    @staticmethod
    def _items(prefix: str, knowledge: str) -> list[str]:
        if TABLE_SEP not in knowledge:
            return [item(prefix, e.strip()) for e in knowledge.split(ENTRY_SEP) if e.strip()]
        table, _, rest = knowledge.partition(TABLE_SEP)
        return [f"{REFERENCE_TABLE} {TITLE_SEP} {table.strip()}"] + [
            item(prefix, e.strip()) for e in rest.strip().split(ENTRY_SEP) if e.strip()
        ]

    def lookup(self, query: str) -> list[str]:
        knowledge = self.search_step(query)
        if isinstance(knowledge, str):
            return self._items(query, knowledge)
        out: list[str] = []
        for entry in knowledge:
            try:
                sub = self.search_step(entry, "failure" if len(knowledge) == 5 else "ambiguity")
            except ToolError as e:  # one missing candidate page does not sink the others
                logger.warning("skipping %r: %s", entry, e)
                continue
            if isinstance(sub, str):
                out += self._items(_href_title(entry) if "/wiki/" in entry else entry, sub)
        return out


# ------------------------------------------------------------------------------------------------
# The tool
# ------------------------------------------------------------------------------------------------
class KnowledgeQuery:
    """``KnowledgeQuery(query)``: the items of the pages the query names (variables substituted by their answers)."""

    name = "KnowledgeQuery"
    context_fields: tuple[str, ...] = ()

    def __init__(self, source: LocalKnowledge | WikipediaKnowledge) -> None:
        self.source = source
        self.backend_id = source.name

    def __call__(self, call: ToolCall) -> list[str]:
        query = substitute(call.action.args, call.variables, wrap="{}").strip()
        if not query:
            raise ToolError("KnowledgeQuery needs a query")
        items = self.source.lookup(query)
        if not items:
            raise ToolError(f"no page found for {query!r}")
        return items
