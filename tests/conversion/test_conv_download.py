"""``python -m data.download`` logic with the network layer replaced (a fake object, or a local HTTP server on
127.0.0.1 for ``LiveNetwork.fetch_url``); nothing here leaves the machine."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import tarfile
import threading
import urllib.error
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lumos.conversion import download as dl


class FakeNetwork:
    def __init__(self, *, offline: bool = False) -> None:
        self.offline = offline
        self.calls: list[tuple[str, str]] = []

    def _check(self, kind: str, what: str) -> None:
        self.calls.append((kind, what))
        if self.offline:
            raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    def fetch_url(self, url: str, dest: Path) -> None:
        self._check("url", url)
        if url.endswith(".zip"):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr("strategyqa_dataset/strategyqa_train.json", '[{"question": "q"}]')
                zf.writestr("strategyqa_dataset/strategyqa_test.json", "[]")
            dest.write_bytes(buf.getvalue())
        elif url.endswith(".tar.gz"):
            with tarfile.open(dest, "w:gz") as tf:
                data = b'[{"question": "What?"}]'
                info = tarfile.TarInfo("aokvqa/aokvqa_v1p0_train.json")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        else:
            dest.write_text(f"content of {url}\n")

    def fetch_gdrive(self, file_id: str, dest: Path) -> None:
        self._check("gdrive", file_id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("data/musique_full_v1.0_train.jsonl", '{"id": "2hop__1"}\n')
        dest.write_bytes(buf.getvalue())

    def hf_dataset_rows(self, repo: str):
        self._check("hf_dataset", repo)
        return [{"messages": [{"role": "user", "content": "hi"}], "id": "maths_0", "dataset": "maths", "extra": 1}]

    def hf_files(self, repo: str, patterns, dest_dir: Path) -> list[Path]:
        self._check("hf_files", repo)
        out = dest_dir / "data" / "train"
        out.mkdir(parents=True)
        (out / "train_0.json").write_text("[]")
        return [out / "train_0.json"]


def test_raw_and_annotation_targets_land_in_the_original_layout(tmp_path):
    net = FakeNetwork()
    status = dl.download(["raw", "lumos_maths_plan_iterative"], net, tmp_path, verify=False)
    assert set(status.values()) == {"downloaded"}
    raw = tmp_path / "data" / "train"
    assert json.loads((raw / "complex_qa/raw_data/strategyqa_train.json").read_text()) == [{"question": "q"}]
    assert (raw / "complex_qa/raw_data/musique_full_v1.0_train.jsonl").read_text() == '{"id": "2hop__1"}\n'
    assert json.loads((raw / "multimodal/raw_data/aokvqa_v1p0_train.json").read_text()) == [{"question": "What?"}]
    assert (raw / "web_agent/raw_data/train_0.json").read_text() == "[]"
    assert (raw / "maths/raw_data/gsm8k_train.jsonl").read_text().startswith("content of https://raw.githubusercontent.com/openai/")
    row = (raw / "maths/train_annots/lumos_maths_plan_iterative.jsonl").read_text()
    assert row == '{"dataset": "maths", "id": "maths_0", "messages": [{"role": "user", "content": "hi"}]}\n'
    assert ("hf_dataset", "ai2lumos/lumos_maths_plan_iterative") in net.calls
    assert not list(tmp_path.rglob("tmp*"))  # temporary folders cleaned up

    again = FakeNetwork()
    assert set(dl.download(["raw"], again, tmp_path, verify=False).values()) == {"present"}
    assert again.calls == []


def test_offline_fails_at_once_naming_what_it_tried(tmp_path):
    net = FakeNetwork(offline=True)
    with pytest.raises(dl.DownloadError, match=r"could not download gsm8k from https://raw\.githubusercontent\.com/"
                                               r"openai/grade-school-math/.*train\.jsonl \(url\): URLError"):
        dl.download(["raw"], net, tmp_path)
    assert len(net.calls) == 1
    assert dl.main(["--only", "eval_gsm", "--root", str(tmp_path)], net=FakeNetwork(offline=True)) == 1
    assert not (tmp_path / "data" / "eval" / "gsm" / "test.jsonl").exists()


def test_checksum_mismatch_is_an_error_unless_disabled(tmp_path):
    target = dl.Target("demo", "raw", "url", "https://example.invalid/file.txt", "data/file.txt",
                       sha256=hashlib.sha256(b"content of https://example.invalid/file.txt\n").hexdigest())
    assert dl.fetch(target, FakeNetwork(), tmp_path) == "downloaded"
    assert dl.fetch(target, FakeNetwork(), tmp_path) == "present"
    bad = dl.Target(**{**target.__dict__, "sha256": "0" * 64, "dest": "data/other.txt"})
    with pytest.raises(dl.DownloadError, match="sha256 .* differs .*--no_verify"):
        dl.fetch(bad, FakeNetwork(), tmp_path)
    assert not (tmp_path / "data" / "other.txt").exists()
    assert dl.fetch(bad, FakeNetwork(), tmp_path, verify=False) == "downloaded"


def test_target_selection():
    assert len(dl.select_targets(["annotations"])) == 14
    assert [t.name for t in dl.select_targets(["eval_gsm", "eval"])][0] == "eval_gsm"
    assert len(dl.select_targets(None)) == len(dl.TARGETS)
    with pytest.raises(dl.DownloadError, match="unknown download target 'gsm9k'.*annotations, raw, eval"):
        dl.select_targets(["gsm9k"])
    names = {t.dest for t in dl.select_targets(["annotations"])}
    assert "data/train/unified/train_annots/lumos_unified_ground_iterative.jsonl" in names
    assert "data/train/complex_qa/train_annots/lumos_complex_qa_plan_onetime.jsonl" in names


def test_live_fetch_url_against_a_local_server(tmp_path):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_GET(self):  # noqa: N802
            if self.path == "/ok.jsonl":
                body = b'{"question": "q", "answer": "#### 1"}\n'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        net = dl.LiveNetwork(timeout=5)
        ok = dl.Target("local", "raw", "url", f"{base}/ok.jsonl", "data/ok.jsonl")
        assert dl.fetch(ok, net, tmp_path) == "downloaded"
        assert (tmp_path / "data/ok.jsonl").read_text().startswith('{"question"')
        missing = dl.Target("missing", "raw", "url", f"{base}/missing.jsonl", "data/missing.jsonl")
        with pytest.raises(dl.DownloadError, match=r"missing from http://127\.0\.0\.1:\d+/missing\.jsonl \(url\): HTTPError"):
            dl.fetch(missing, net, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = dl.Target("refused", "raw", "url", f"http://127.0.0.1:{port}/x", "data/x")
    with pytest.raises(dl.DownloadError, match="could not download refused"):
        dl.fetch(refused, dl.LiveNetwork(timeout=5), tmp_path)


def test_list(capsys):
    assert dl.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "lumos_unified_plan_iterative" in out and "data/train/maths/raw_data/gsm8k_train.jsonl" in out


def test_mind2web_test_splits_are_a_manual_step_and_scores_a_hub_file(tmp_path, caplog):
    class ScoresNetwork(FakeNetwork):
        def hf_files(self, repo, patterns, dest_dir):
            self._check("hf_files", f"{repo}:{','.join(patterns)}")
            dest_dir.mkdir(parents=True)
            (dest_dir / "scores_all_data.pkl").write_bytes(b"pickle")
            return [dest_dir / "scores_all_data.pkl"]

    net = ScoresNetwork()
    status = dl.download(["mind2web_test", "mind2web_scores"], net, tmp_path)
    assert status == {"mind2web_test": "manual", "mind2web_scores": "downloaded"}
    assert "test.zip in the Hugging Face dataset osunlp/Mind2Web, password-protected" in caplog.text
    assert "not be redistributed" in caplog.text
    assert net.calls == [("hf_files", "osunlp/Mind2Web:scores_all_data.pkl")]
    folder = tmp_path / "data" / "eval" / "mind2web"
    assert (folder / "scores_all_data.pkl").read_bytes() == b"pickle"
    for split in ("test_task", "test_website", "test_domain"):
        (folder / split).mkdir()
        (folder / split / f"{split}_0.json").write_text("[]")
    assert dl.download(["mind2web_test", "mind2web_scores"], FakeNetwork(offline=True), tmp_path) == {
        "mind2web_test": "present", "mind2web_scores": "present"}
