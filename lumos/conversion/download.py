"""Download the released annotations, the raw benchmark files and the eval files into the original layout.

``python -m data.download`` fetches everything; ``--only NAME`` (a target or a group: ``annotations``, ``raw``,
``eval``, ``webshop``) picks some; ``--list`` shows them. Files already present (and matching their checksum, where one is
known) are skipped. Without internet it stops at the first target with a message naming what it tried, e.g.::

    could not download gsm8k from https://raw.githubusercontent.com/openai/grade-school-math/... (url): <error>

Layout: ``data/train/<domain>/train_annots/lumos_<domain>_<module>_<formulation>.jsonl`` (``ai2lumos/*`` via
``datasets``), ``data/train/<domain>/raw_data/...``, ``data/eval/<bench>/...``. The network layer is one small
class (``LiveNetwork``) so tests can replace it. Exercise: ``pytest tests/conversion/test_conv_download.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from lumos.paths import REPO_ROOT
from lumos.utils.cli import ReportedError, cli_entry
from lumos.utils.io import file_sha256

logger = logging.getLogger(__name__)

Kind = Literal["url", "gdrive", "hf_dataset", "hf_files", "manual"]
GROUPS: tuple[str, ...] = ("annotations", "raw", "eval", "webshop")
_LUMOS_RAW = "https://raw.githubusercontent.com/allenai/lumos/main/"
# InterCode's SQL data at the commit whose files we checked (princeton-nlp/intercode, data/sql/spider/).
_INTERCODE_RAW = "https://raw.githubusercontent.com/princeton-nlp/intercode/c3e46d827cfc9d4c704ec078f7abf9f41e3191d8/"


class DownloadError(ReportedError, RuntimeError):
    """A target could not be fetched or failed its checksum; the message names the target and the source."""

    exit_code = 1


@dataclass(frozen=True)
class Target:
    """One thing to fetch: ``source`` is a URL, a Google Drive file id or a Hub repo, depending on ``kind``.

    ``member`` picks one file out of a zip / tar archive; ``patterns`` select Hub files (``hf_files``), or name the
    folders that must exist (``manual``); ``sha256`` is checked when known. A ``manual`` target is not fetched: its
    ``note`` says where the data comes from and what to do.
    """

    name: str
    group: str
    kind: Kind
    source: str
    dest: str
    sha256: str | None = None
    member: str | None = None
    patterns: tuple[str, ...] = ()
    note: str = ""


def _annotation_targets() -> list[Target]:
    names = [f"lumos_{d}_{m}_{f}" for d in ("complex_qa", "maths") for f in ("iterative", "onetime") for m in ("plan", "ground")]
    names += [f"lumos_{d}_{m}_iterative" for d in ("web_agent", "multimodal", "unified") for m in ("plan", "ground")]
    return [Target(n, "annotations", "hf_dataset", f"ai2lumos/{n}",
                   f"data/train/{n.split('_', 1)[1].rsplit('_', 2)[0]}/train_annots/{n}.jsonl") for n in names]


# sha256 values are those of the copies in ../shared/data (the public files as distributed).
TARGETS: tuple[Target, ...] = (
    *_annotation_targets(),
    Target("gsm8k", "raw", "url",
           "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/train.jsonl",
           "data/train/maths/raw_data/gsm8k_train.jsonl",
           sha256="17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"),
    Target("asdiv", "raw", "url", "https://raw.githubusercontent.com/chaochun/nlu-asdiv-dataset/master/dataset/ASDiv.xml",
           "data/train/maths/raw_data/asdiv.xml",
           sha256="ef8904068482919ac48c8eeaaf6df344b8a308ba66d048c2d4d87eab82dc4929"),
    Target("prm800k", "raw", "url", "https://github.com/openai/prm800k/raw/main/prm800k/data/phase2_train.jsonl",
           "data/train/maths/raw_data/prm800k_phase2_train.jsonl"),
    Target("strategyqa", "raw", "url", "https://storage.googleapis.com/ai2i/strategyqa/data/strategyqa_dataset.zip",
           "data/train/complex_qa/raw_data/strategyqa_train.json", member="strategyqa_train.json"),
    Target("musique", "raw", "gdrive", "1tGdADlNjWFaHLeZZGShh2IRcpO6Lv24h",
           "data/train/complex_qa/raw_data/musique_full_v1.0_train.jsonl", member="musique_full_v1.0_train.jsonl"),
    Target("mind2web", "raw", "hf_files", "osunlp/Mind2Web", "data/train/web_agent/raw_data",
           patterns=("data/train/*.json",)),
    Target("aokvqa", "raw", "url", "https://prior-datasets.s3.us-east-2.amazonaws.com/aokvqa/aokvqa_v1p0.tar.gz",
           "data/train/multimodal/raw_data/aokvqa_v1p0_train.json", member="aokvqa_v1p0_train.json"),
    Target("mind2web_scores", "eval", "hf_files", "osunlp/Mind2Web", "data/eval/mind2web",
           patterns=("scores_all_data.pkl",)),
    Target("mind2web_test", "eval", "manual", "https://huggingface.co/datasets/osunlp/Mind2Web", "data/eval/mind2web",
           patterns=("test_task", "test_website", "test_domain"),
           note="The Mind2Web test splits are test.zip in the Hugging Face dataset osunlp/Mind2Web, password-protected "
                "by its authors (the dataset card says how to get the password); they ask that the test data not be "
                "redistributed or used for training. Download it yourself and unzip it into data/eval/mind2web/ "
                "(test_task/, test_website/, test_domain/ of JSON files). Without it, `python -m eval.mind2web.score` "
                "also reads SeeClick's trimmed test files (no HTML, no negative candidates)."),
    Target("eval_gsm", "eval", "url",
           "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl",
           "data/eval/gsm/test.jsonl", sha256="3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"),
    Target("eval_svamp", "eval", "url", _LUMOS_RAW + "data/eval/svamp/test.json", "data/eval/svamp/test.json"),
    Target("eval_hotpotqa", "eval", "url", _LUMOS_RAW + "data/eval/hotpotqa/test.json", "data/eval/hotpotqa/test.json"),
    Target("eval_strategyqa", "eval", "url", _LUMOS_RAW + "data/eval/strategyqa/test.json", "data/eval/strategyqa/test.json"),
    Target("eval_intercode_sql", "eval", "url", _INTERCODE_RAW + "data/sql/spider/ic_spider_dev.json",
           "data/eval/intercode_sql/ic_spider_dev.json",
           sha256="68c9ecb0692c80770f46c724cc073ea76be4f301a294caa532c050546948128e"),
    Target("eval_intercode_sql_dbs", "eval", "url", _INTERCODE_RAW + "data/sql/spider/ic_spider_dbs.sql",
           "data/eval/intercode_sql/ic_spider_dbs.sql",
           sha256="61f6e8000cb5bb696f123fa55e111acdcd8da7eca64f452a36fd1a6e5fb1781a"),
    # WebShop (Google Drive ids of WebShop's setup script): the full catalogue, its attributes and the human
    # instructions, plus the 1,000-product subset. `--data_dir data/eval/webshop` reads them.
    Target("webshop_items_shuffle", "webshop", "gdrive", "1A2whVgOO0euk5O13n2iYDM0bQRkkRduB",
           "data/eval/webshop/items_shuffle.json"),
    Target("webshop_items_ins_v2", "webshop", "gdrive", "1s2j6NgHljiZzQNL3veZaAiyW_qDEgBNi",
           "data/eval/webshop/items_ins_v2.json"),
    Target("webshop_items_human_ins", "webshop", "gdrive", "14Kb5SPBk_jfdLZ_CDBNitW98QLDlKR5O",
           "data/eval/webshop/items_human_ins.json"),
    Target("webshop_items_shuffle_1000", "webshop", "gdrive", "1EgHdxQ_YxqIQlvvq5iKlCrkEKR6-j0Ib",
           "data/eval/webshop/items_shuffle_1000.json"),
    Target("webshop_items_ins_v2_1000", "webshop", "gdrive", "1IduG0xl544V_A_jv3tHXC0kyFi7PnyBu",
           "data/eval/webshop/items_ins_v2_1000.json"),
)


class Network(Protocol):
    """What the downloader needs from the outside world (replaced by a fake in tests)."""

    def fetch_url(self, url: str, dest: Path) -> None: ...
    def fetch_gdrive(self, file_id: str, dest: Path) -> None: ...
    def hf_dataset_rows(self, repo: str) -> Iterable[dict[str, Any]]: ...
    def hf_files(self, repo: str, patterns: Sequence[str], dest_dir: Path) -> list[Path]: ...


class LiveNetwork:
    """The real network: urllib, gdown, ``datasets`` and ``huggingface_hub`` (imported when used). No retries:
    offline, the first request fails at once."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def fetch_url(self, url: str, dest: Path) -> None:
        import urllib.request

        req = urllib.request.Request(url, headers={"User-Agent": "lumos-download/0.1"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp, dest.open("wb") as f:
            shutil.copyfileobj(resp, f)

    def fetch_gdrive(self, file_id: str, dest: Path) -> None:
        import gdown

        if gdown.download(id=file_id, output=str(dest), quiet=False) is None:
            raise OSError(f"gdown could not fetch Google Drive file {file_id}")

    def hf_dataset_rows(self, repo: str) -> Iterable[dict[str, Any]]:
        from datasets import load_dataset

        return load_dataset(repo, split="train")

    def hf_files(self, repo: str, patterns: Sequence[str], dest_dir: Path) -> list[Path]:
        from huggingface_hub import snapshot_download

        root = Path(snapshot_download(repo_id=repo, repo_type="dataset", allow_patterns=list(patterns), local_dir=dest_dir))
        return sorted(p for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts)


def select_targets(only: Sequence[str] | None) -> list[Target]:
    """Targets named in ``only`` (target names or groups); all when empty.

    Raises:
        DownloadError: an unknown name (the message lists the valid ones).
    """
    if not only:
        return list(TARGETS)
    names = {t.name for t in TARGETS}
    chosen: list[Target] = []
    for item in only:
        if item in GROUPS:
            chosen += [t for t in TARGETS if t.group == item]
        elif item in names:
            chosen += [t for t in TARGETS if t.name == item]
        else:
            raise DownloadError(f"unknown download target {item!r}; choose from groups {', '.join(GROUPS)} or "
                                f"{', '.join(sorted(names))}")
    return list(dict.fromkeys(chosen))


def _extract(archive: Path, member: str, dest: Path) -> None:
    """Copy ``member`` (matched by its file name) out of a zip or tar archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if Path(n).name == Path(member).name]
            if not names:
                raise DownloadError(f"{archive.name} has no {member}")
            with zf.open(names[0]) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
        return
    with tarfile.open(archive) as tf:
        infos = [m for m in tf.getmembers() if m.isfile() and Path(m.name).name == Path(member).name]
        src = tf.extractfile(infos[0]) if infos else None
        if src is None:
            raise DownloadError(f"{archive.name} has no {member}")
        with src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)


def _describe(t: Target) -> str:
    where = {"url": t.source, "gdrive": f"Google Drive file {t.source}", "hf_dataset": f"Hugging Face dataset {t.source}",
             "hf_files": f"Hugging Face dataset {t.source} files {', '.join(t.patterns)}",
             "manual": f"{t.source} (by hand)"}[t.kind]
    return f"{t.name} from {where} ({t.kind})"


def _present(target: Target, dest: Path, verify: bool) -> bool:
    if target.kind == "hf_files":
        return dest.is_dir() and all(any(dest.glob(Path(p).name)) for p in target.patterns)
    if target.kind == "manual":
        return all((dest / p).is_dir() and any((dest / p).glob("*.json")) for p in target.patterns)
    if not dest.is_file():
        return False
    return not verify or target.sha256 is None or file_sha256(dest) == target.sha256


def fetch(target: Target, net: Network, root: Path, *, force: bool = False, verify: bool = True) -> str:
    """Fetch one target into ``root``; returns ``"present"``, ``"downloaded"`` or (``manual`` targets not in place)
    ``"manual"`` after logging the target's note.

    Raises:
        DownloadError: the fetch failed (offline, HTTP error, missing archive member) or the checksum differs.
    """
    dest = root / target.dest
    if (not force or target.kind == "manual") and _present(target, dest, verify):
        return "present"
    if target.kind == "manual":
        logger.warning("%s: not downloaded automatically. %s", target.name, target.note)
        return "manual"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            if target.kind == "hf_dataset":
                part = tmp / "rows.jsonl"
                with part.open("w", encoding="utf-8") as f:
                    for row in net.hf_dataset_rows(target.source):
                        f.write(json.dumps({k: row[k] for k in ("dataset", "id", "messages") if k in row}) + "\n")
            elif target.kind == "hf_files":
                files = net.hf_files(target.source, target.patterns, tmp / "hub")
                dest.mkdir(parents=True, exist_ok=True)
                for f in files:
                    shutil.copyfile(f, dest / f.name)
                if not files:
                    raise DownloadError(f"no file matched {target.patterns} in {target.source}")
                return "downloaded"
            else:
                part = tmp / ("archive" if target.member else "file")
                (net.fetch_url if target.kind == "url" else net.fetch_gdrive)(target.source, part)
                if target.member:
                    extracted = tmp / "member"
                    _extract(part, target.member, extracted)
                    part = extracted
        except DownloadError:
            raise
        except (OSError, RuntimeError, ValueError, ImportError) as e:  # URLError, HTTPError, hub/gdown errors, ...
            raise DownloadError(f"could not download {_describe(target)}: {type(e).__name__}: {e}") from e
        if verify and target.sha256 is not None and (got := file_sha256(part)) != target.sha256:
            raise DownloadError(f"{_describe(target)}: sha256 {got} differs from the expected {target.sha256} "
                                "(the upstream file changed? rerun with --no_verify to accept it)")
        part.replace(dest)
    return "downloaded"


def download(only: Sequence[str] | None, net: Network, root: Path, *, force: bool = False, verify: bool = True) -> dict[str, str]:
    """Fetch the selected targets in order; stop at the first failure (``DownloadError``)."""
    status: dict[str, str] = {}
    for target in select_targets(only):
        logger.info("%s -> %s", _describe(target), target.dest)
        status[target.name] = fetch(target, net, root, force=force, verify=verify)
        logger.info("%s: %s", target.name, status[target.name])
    return status


@cli_entry("python -m data.download")
def main(argv: Sequence[str] | None = None, net: Network | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m data.download", description=__doc__.split("\n")[0])
    p.add_argument("--only", action="append", default=[], help="target or group (annotations, raw, eval, webshop); repeatable, or a comma list")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    p.add_argument("--force", action="store_true", help="download again even when present")
    p.add_argument("--no_verify", action="store_true", help="do not check sha256 checksums")
    p.add_argument("--root", default=str(REPO_ROOT), help="repository root the layout is relative to")
    args = p.parse_args(argv)
    if args.list:
        out = io.StringIO()
        for t in TARGETS:
            out.write(f"{t.group:12s} {t.name:36s} -> {t.dest}\n")
        sys.stdout.write(out.getvalue())
        return 0
    only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    download(only, net or LiveNetwork(), Path(args.root), force=args.force, verify=not args.no_verify)
    return 0


if __name__ == "__main__":
    sys.exit(main())
