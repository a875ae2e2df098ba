"""KnowledgeQuery: local corpora (three formats, BM25 index cached on disk) and a fake Wikipedia."""

from __future__ import annotations

import json
import re

import pytest

from lumos.formats.actions import parse_action
from lumos.tools.base import ToolCall, ToolError
from lumos.tools.knowledge import KnowledgeQuery, LocalKnowledge, WikipediaKnowledge, load_corpus, sentences
from lumos.utils.io import DataFormatError


@pytest.fixture
def local(mini_corpus, tmp_path):
    return LocalKnowledge(mini_corpus, index_dir=tmp_path / "idx")


def query(tool, text, variables=None):
    return tool(ToolCall(parse_action(f"R1 = KnowledgeQuery({text})"), variables or {}))


def test_a_page_returns_its_paragraphs_in_the_original_format(local):
    items = query(KnowledgeQuery(local), "Ada Lovelace")
    assert items == [
        "Ada Lovelace *** Augusta Ada King, Countess of Lovelace, was born in London in 1815. Her father was the "
        "poet Lord Byron and her mother was the mathematician Anne Isabella Milbanke.",
        "Ada Lovelace *** Between 1842 and 1843 she translated an article about the Analytical Engine and added long "
        "notes. One note describes an algorithm for Bernoulli numbers, often called the first published computer program.",
        "Ada Lovelace *** She died of uterine cancer in 1852 at the age of 36 and was buried in the church at Hucknall.",
    ]


def test_title_matching_rules(local):
    tool = KnowledgeQuery(local)
    assert [i.split(" *** ")[0] for i in query(tool, "carmen")] == ["Carmen"]  # exact title, case-insensitive
    assert [i.split(" *** ")[0] for i in query(tool, "Georges Bizet.")] == ["Georges Bizet"]
    # no exact title: BM25 over title + text; the duplicated paragraph of "Carmen (1915 film)" appears once
    titles = [i.split(" *** ")[0] for i in query(tool, "silent film by Cecil DeMille")]
    assert titles[0] == "Carmen (1915 film)" and titles.count("Carmen (1915 film)") == 1
    assert [i.split(" *** ")[0] for i in query(tool, "river through the capital of Hungary")][:2] in (
        ["Budapest", "Danube"], ["Danube", "Budapest"])  # fmt: skip


def test_variables_are_substituted_by_their_answers(local):
    items = query(KnowledgeQuery(local), "R3", {"R3": "Question: Who composed Carmen?; Answer: Georges Bizet."})
    assert items[0].startswith("Georges Bizet *** ")


def test_nothing_found_is_a_tool_error(local):
    with pytest.raises(ToolError, match="no page found"):
        query(KnowledgeQuery(local), "zzzqqq xyzzy")


def test_index_is_persisted_and_reloaded(mini_corpus, tmp_path):
    first = LocalKnowledge(mini_corpus, index_dir=tmp_path / "idx")
    assert len(first.pages) == 10 and first.build_seconds is not None
    stored = list((tmp_path / "idx").iterdir())
    assert len(stored) == 1 and stored[0].name.startswith(first.sha[:32])
    assert json.loads((stored[0] / "meta.json").read_text())["pages"] == 10
    second = LocalKnowledge(mini_corpus, index_dir=tmp_path / "idx")
    assert len(second.pages) == 10 and second.build_seconds is None  # loaded, not rebuilt
    assert second.lookup("Danube") == first.lookup("Danube")


def test_other_corpus_formats(tool_fixtures):
    pages = {p.title: p.paragraphs for p in load_corpus(tool_fixtures / "strategyqa_paragraphs_mini.json")}
    assert pages["Ada Lovelace"] == ("Her father was the poet Lord Byron.", "She wrote notes on the Analytical Engine.",
                                     "She died in 1852.")  # fmt: skip
    pages = {p.title: p.paragraphs for p in load_corpus(tool_fixtures / "pages_mini.jsonl")}
    assert pages == {"Danube": ("The Danube flows through four capital cities.",), "Budapest": ("Budapest is the capital of Hungary.",)}


@pytest.mark.parametrize("name", ["hotpot_dev_distractor_v1.json", "hotpot_qa_distractor_validation.jsonl"])
def test_hotpotqa_official_and_hugging_face_files_as_a_corpus(name, tmp_path):
    from tiny_models import FIXTURES

    path = FIXTURES / "eval" / "hotpotqa" / name
    pages = {p.title: p.paragraphs for p in load_corpus(path)}
    # one page per title; sentences joined as they are; "Freedonia" (in both questions) kept once
    assert list(pages) == ["Freedonia", "Fredville", "Sylvania", "Alice Example", "Bob Sample"]
    assert pages["Fredville"] == ("Fredville is the capital of Freedonia. The Silver River flows through Fredville.",)
    assert pages["Freedonia"] == ("Freedonia is a fictional country. Its capital is Fredville.",)
    items = KnowledgeQuery(LocalKnowledge(path, index_dir=tmp_path / "idx"))(
        ToolCall(parse_action("R1 = KnowledgeQuery(Fredville)"), {}))
    assert items == ["Fredville *** Fredville is the capital of Freedonia. The Silver River flows through Fredville."]


@pytest.mark.parametrize(("context", "message"), [
    ([["A", "not a list"]], "context entry 0 is not a title with a list of sentences"),
    ({"title": ["A"], "sentences": []}, "needs lists 'title' and 'sentences' of equal length"),
    ("text", "neither a list nor a {title, sentences} object"),
])
def test_bad_hotpotqa_context_names_the_record(tmp_path, context, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"_id": "x", "question": "q", "answer": "a", "context": context}]))
    with pytest.raises(DataFormatError, match=r"bad\.json: item 0: .*" + re.escape(message)):
        load_corpus(bad)


def test_real_official_hotpotqa_file_as_a_corpus(shared_data):
    path = shared_data / "hotpotqa" / "hipporag_hotpot_train_sample100.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    raw = json.loads(path.read_text())
    pages = {p.title: p.paragraphs for p in load_corpus(path)}
    assert len(pages) == len({t for r in raw for t, _ in r["context"]}) == 994
    title, sents = raw[0]["context"][0]
    assert pages[title] == (" ".join("".join(sents).split()),)


def test_bad_corpus_lines_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A", "paragraph_text": "x"}\n{"title": "B"}\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:2: field 'paragraph_text'"):
        load_corpus(bad)
    with pytest.raises(FileNotFoundError):
        LocalKnowledge(tmp_path / "missing.jsonl")


def test_sentence_granularity_splits_like_the_original(mini_corpus, tmp_path):
    k = LocalKnowledge(mini_corpus, index_dir=tmp_path / "idx", granularity="sentence")
    assert k.lookup("Georges Bizet") == ["Georges Bizet *** Georges Bizet was a French composer of the Romantic era.",
                                         "Georges Bizet *** He was born in Paris in 1838 and studied at the Conservatoire de Paris."]  # fmt: skip
    assert sentences(["A b. C d.", "E f"]) == ["A b.", "C d.", "E f."]


def test_shared_hotpotqa_corpus(shared_data, tmp_path):
    corpus = shared_data / "hotpotqa" / "ircot_dev_subsampled.jsonl"
    if not corpus.is_file():
        pytest.skip(f"{corpus} not present")
    k = LocalKnowledge(corpus, index_dir=tmp_path / "idx")
    items = KnowledgeQuery(k)(ToolCall(parse_action("R1 = KnowledgeQuery(Shirley Temple)"), {}))
    assert len(items) == 1 and items[0].startswith("Shirley Temple *** Shirley Temple Black (April 23, 1928")
    assert "Chief of Protocol" in items[0]
    assert len(k.pages) > 4000


# ------------------------------------------------------------------------------------------------
# Wikipedia (a local fake server; recorded-style pages in tests/fixtures/tools/wiki)
# ------------------------------------------------------------------------------------------------
def test_wikipedia_article_with_table(fake_wikipedia):
    base, log = fake_wikipedia
    wiki = WikipediaKnowledge(base_url=base, timeout_s=5)
    items = wiki.lookup("Ada Lovelace")
    # rows flattened with get_text() exactly as the original did (no separators inside a row)
    assert items[0] == ("Reference Table: *** BornAugusta Ada Byron10 December 1815London, England "
                        "Died27 November 1852 (aged 36) ParentsLord Byron, Anne Isabella Milbanke")  # fmt: skip
    assert items[1] == ("Ada Lovelace *** Augusta Ada King, Countess of Lovelace, was an English mathematician and "
                        "writer, chiefly known for her work on the Analytical Engine.")  # fmt: skip
    assert "Ada Lovelace *** Her father was the poet Lord Byron and her mother was Anne Isabella Milbanke." in items
    assert not any("Short paragraph" in i for i in items)  # paragraphs of <= 10 words are dropped
    assert any("lumos-reimplementation" in entry for entry in log)  # a User-Agent is sent


def test_wikipedia_search_results_take_a_second_hop(fake_wikipedia):
    base, _ = fake_wikipedia
    wiki = WikipediaKnowledge(base_url=base, timeout_s=5)
    assert wiki.search_step("first programmer") == ["Ada Lovelace", "Charles Babbage", "Analytical Engine",
                                                    "Computer programming", "Programmer"]  # fmt: skip
    items = wiki.lookup("first programmer")
    titles = {i.split(" *** ")[0] for i in items}
    assert {"Ada Lovelace", "Charles Babbage"} <= titles  # the other three titles lead to no article


def test_wikipedia_disambiguation(fake_wikipedia):
    base, _ = fake_wikipedia
    wiki = WikipediaKnowledge(base_url=base, timeout_s=5)
    assert wiki.search_step("Mercury") == ["/wiki/Mercury_(planet)", "/wiki/Mercury_(element)"]
    items = wiki.lookup("Mercury")
    assert items[0].startswith("Mercury (planet) *** Mercury is the first planet from the Sun")
    assert any(i.startswith("Mercury (element) *** Mercury is a chemical element") for i in items)


def test_wikipedia_never_leaves_its_base_url(fake_wikipedia):
    base, log = fake_wikipedia
    wiki = WikipediaKnowledge(base_url=base, timeout_s=5)
    n = len(log)
    wiki.search_step("https://example.com/wiki/Ada_Lovelace")  # treated as a path on the configured wiki
    assert log[n].startswith("/wiki/Ada_Lovelace")


def test_wikipedia_unreachable_is_a_tool_error():
    wiki = WikipediaKnowledge(base_url="http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(ToolError, match="Wikipedia request"):
        wiki.lookup("Ada Lovelace")
