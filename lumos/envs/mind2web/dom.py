"""Candidate texts for Mind2Web: MindAct's DOM pruning and its ``ancestors: ... target: ...`` representation.

For a candidate in a step's ``cleaned_html`` (Mind2Web's cleaned DOM, every node carrying ``backend_node_id``, text
in ``<text>`` nodes)::

    <html backend_node_id="1"><body backend_node_id="2"><form backend_node_id="3" aria_label="Search flights">
      <input backend_node_id="4" type="text" placeholder="From"/> <button backend_node_id="5" type="submit">
      <text backend_node_id="6">Search</text></button></form></body></html>

``DomTree(html).candidate_text("5")`` gives::

    ancestors: /html/body/form search flights /input text from
    target: (button id=0 submit search)

The rules are MindAct's (and so the original Lumos's): keep the candidate, its ancestors, its first 50
descendants up to 6 levels below it and up to 3 non-text siblings on each side (``prune_tree`` with max_depth 5,
max_children 50, max_sibling 3); drop attribute-less wrappers; write each element as ``(tag meta`` ... ``)`` where
meta holds up to 5 short words of each salient attribute (at most 20 words); ancestors: the pruned page without the
candidate, ``(``/``)`` collapsed to ``/``, last 50 tokens; target: the candidate's subtree, first 100 tokens.
This implementation builds only the kept part of the page instead of copying the whole page per candidate,
with the same output.

Without HTML (SeeClick's layout) ``seeclick_candidate_text`` builds ``ancestors: \\ntarget: (tag meta ...)`` from
the tag, the attributes and the ``choice`` text; the ancestors are unknown there.

Exercise: ``pytest tests/envs/mind2web/test_dom.py``.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from lxml import etree

from lumos.envs.mind2web.data import Candidate

MAX_DEPTH = 5
MAX_CHILDREN = 50
MAX_SIBLING = 3
ANCESTOR_TOKENS = 50
TARGET_TOKENS = 100
_ID = "backend_node_id"

# Attributes read into an element's meta text, in this order.
META_ATTRIBUTES: tuple[str, ...] = (
    "role", "aria_role", "type", "alt", "aria_description", "aria_label", "label", "title", "name", "text_value",
    "value", "placeholder", "input_checked", "input_value", "option_selected", "class",
)  # fmt: skip
_UNINFORMATIVE = frozenset({"hidden", "none", "presentation", "null", "undefined"})
_ENTITIES: tuple[tuple[str, str], ...] = (
    ("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&ndash;", "-"),
    ("&rsquo;", "'"), ("&lsquo;", "'"), ("&ldquo;", '"'), ("&rdquo;", '"'), ("&#39;", "'"), ("&#40;", "("),
    ("&#41;", ")"),
)  # fmt: skip


def _elements(node: Any) -> Iterator[Any]:
    """Element children (no comments or processing instructions)."""
    return (c for c in node if isinstance(c.tag, str))


def _descendants(node: Any, max_depth: int, depth: int = 0) -> Iterator[Any]:
    """Pre-order descendants, children of nodes up to ``max_depth`` levels below ``node`` included."""
    if depth > max_depth:
        return
    for child in _elements(node):
        yield child
        yield from _descendants(child, max_depth, depth + 1)


def attribute_meta(attrs: Mapping[str, str], max_value_length: int = 5, max_length: int = 20) -> str:
    """The meta text of an element: salient attribute values, lower-cased, short words only, de-duplicated."""
    seen: set[str] = set()
    words: list[str] = []
    for name in META_ATTRIBUTES:
        raw = attrs.get(name)
        if raw is None:
            continue
        value = raw.lower()
        if value in _UNINFORMATIVE or value.startswith("http"):
            continue
        value = " ".join([w for w in value.split() if len(w) < 15][:max_value_length])
        if value and value not in seen:
            seen.add(value)
            words.extend(value.split())
    return " ".join(words[:max_length])


def tree_repr(tree: Any, max_value_length: int = 5, max_length: int = 20, keep_html_brackets: bool = False) -> str:
    """MindAct's text rendering of an element tree: ``(tag id=k meta (child ...) text)``.

    Candidates (nodes still holding ``backend_node_id``) are numbered in document order from 0.
    """
    tree = copy.deepcopy(tree)
    numbering: dict[str, int] = {}
    for node in list(tree.iter(etree.Element)):
        if node.tag == "text":
            node.text = " ".join((node.text or "").split()[:max_length])
            continue
        uid = node.get(_ID)
        if uid is not None:
            uid = str(numbering.setdefault(uid, len(numbering)))
        meta = attribute_meta(node.attrib, max_value_length, max_length)
        node.attrib.clear()
        if uid:
            node.set("id", uid)
        if meta:
            node.set("meta", meta)
    text = etree.tostring(tree, encoding="unicode")
    text = text.replace('"', " ").replace("meta= ", "").replace("id= ", "id=").replace(" >", ">")
    text = re.sub(r"<text>(.*?)</text>", r"\1", text)
    if not keep_html_brackets:
        text = text.replace("/>", "$/$>")
        text = re.sub(r"</(.+?)>", ")", text)
        text = re.sub(r"<(.+?)>", r"(\1", text)
        text = text.replace("$/$", ")")
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text).strip()


class DomTree:
    """A step's ``cleaned_html``, parsed once, with an index from ``backend_node_id`` to element.

    Raises:
        ValueError: the HTML does not parse (``recover=True`` accepts truncated pages, e.g. cut-off snippets).
    """

    def __init__(self, html: str, *, recover: bool = False) -> None:
        parser = etree.XMLParser(huge_tree=True, recover=recover, remove_comments=False)
        try:
            root = etree.fromstring(html.encode("utf-8"), parser)
        except etree.XMLSyntaxError as e:
            raise ValueError(f"cleaned_html does not parse: {e}") from None
        if root is None:
            raise ValueError("cleaned_html is empty")
        self.root = root
        self.index: dict[str, Any] = {}
        for el in root.iter(etree.Element):
            uid = el.get(_ID)
            if uid is not None:
                self.index.setdefault(uid, el)

    def __contains__(self, backend_node_id: str) -> bool:
        return backend_node_id in self.index

    def _kept_ids(self, candidate_ids: Iterable[str], max_depth: int, max_children: int, max_sibling: int) -> set[str]:
        keep: set[str] = set()
        for cid in candidate_ids:
            node = self.index[cid]
            keep.add(cid)
            keep.update(a.get(_ID, "") for a in node.iterancestors())
            keep.update(d.get(_ID, "") for d in itertools.islice(_descendants(node, max_depth), max_children))
            parent = node.getparent()
            if parent is not None:
                siblings = [s for s in _elements(parent) if s.tag != "text"]
                i = siblings.index(node)
                keep.update(s.get(_ID, "") for s in siblings[max(0, i - max_sibling): i + max_sibling + 1])
        return keep

    def prune(self, candidate_ids: Sequence[str], *, max_depth: int = MAX_DEPTH, max_children: int = MAX_CHILDREN,
              max_sibling: int = MAX_SIBLING) -> Any:  # fmt: skip
        """The page pruned around ``candidate_ids`` (a new tree; only candidates keep ``backend_node_id``).

        Raises:
            KeyError: a candidate id is not in the page.
        """
        cand = set(candidate_ids)
        keep = self._kept_ids(candidate_ids, max_depth, max_children, max_sibling)

        def build(src: Any) -> Any:
            out = etree.Element(src.tag, dict(src.attrib))
            out.text, out.tail = src.text, src.tail
            parent_kept = src.get(_ID, "") in keep
            for child in _elements(src):
                if (parent_kept if child.tag == "text" else child.get(_ID, "") in keep):
                    out.append(build(child))
            return out

        root = build(self.root)
        # Post-order: strip ids of non-candidates, then hoist the children of wrappers left without attributes.
        for node in reversed(list(root.iter(etree.Element))):
            parent = node.getparent()
            owner = parent if node.tag == "text" and parent is not None else node
            if node.tag == "text" or owner.get(_ID, "") not in cand:
                node.attrib.pop(_ID, None)
            if (len(node.attrib) == 0 and node.tag != "text" and parent is not None and len(node) <= 1
                    and not any(c.tag == "text" for c in node)):  # fmt: skip
                for child in list(node):
                    node.addprevious(child)
                parent.remove(node)
        return root

    def candidate_text(self, backend_node_id: str) -> str:
        """``ancestors: <...>\\ntarget: <...>`` for one candidate (MindAct's candidate-ranking input).

        Raises:
            KeyError: the id is not in the page.
        """
        tree = self.prune([backend_node_id])
        node = next(el for el in tree.iter(etree.Element) if el.get(_ID) is not None)
        ancestors = ""
        if node.getparent() is not None:
            node.getparent().remove(node)
            ancestors = tree_repr(tree)
        target = tree_repr(node)
        target = " ".join(target.split()[:TARGET_TOKENS]) if target.strip() else ""
        if ancestors.strip():
            ancestors = re.sub(r"\s*\(\s*", "/", ancestors)
            ancestors = re.sub(r"\s*\)\s*", "", ancestors)
            ancestors = " ".join(ancestors.split()[-ANCESTOR_TOKENS:])
        else:
            ancestors = ""
        return f"ancestors: {ancestors}\ntarget: {target}"


def seeclick_candidate_text(candidate: Candidate) -> str:
    """A candidate text without HTML: ``ancestors: \\ntarget: (tag meta <choice contents>)``.

    ``choice`` (``(button id=34 (span Change Location ) )``) loses its multiple-choice number; the attributes'
    meta is put after the tag. Used for SeeClick's files and for candidates outside a truncated page.
    """
    meta = attribute_meta(candidate.attributes)
    tag = candidate.tag or "element"
    if candidate.choice:
        body = re.sub(r"\s*\bid=\d+", "", candidate.choice.strip(), count=1)
        m = re.match(r"\(\s*([\w-]+)(.*)$", body, re.S)
        target = f"({m.group(1)} {meta}{m.group(2)}" if m else f"({tag} {meta} {body})"
    else:
        target = f"({tag} {meta})"
    return "ancestors: \ntarget: " + re.sub(r"\s+", " ", target).strip()
