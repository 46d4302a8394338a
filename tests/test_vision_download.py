"""The download path against a 127.0.0.1 HTTP server: progress, resume after a cut connection, md5
refusal, safe extraction (path-escaping, link, corrupt and truncated archives), nothing half-written."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from test_vision_data import cifar_binary_archive

from pinn.errors import PinnError
from pinn.vision.datasets import load_cifar10
from pinn.vision.download import cache_dir, download, extract_tar


class Server:
    """Serves ``files`` (path -> bytes) with Range support; ``cut_first`` paths send only half of the body
    on their first request and then drop the connection."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_first: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body) - start))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if self.path in server.cut_first:
                    server.cut_first.discard(self.path)
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with Server() as s:
        yield s


@pytest.fixture
def payload() -> bytes:
    return np.random.default_rng(3).integers(0, 256, 300_000).astype(np.uint8).tobytes()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_cache_folder_follows_pinn_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PINN_CACHE")
    assert cache_dir() == Path.home() / ".cache" / "pinn"


def test_download_shows_progress_and_checks_md5(server, payload, tmp_path):
    server.files["/a.bin"] = payload
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    path = download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload), console=console)
    assert path.read_bytes() == payload
    assert "a.bin" in out.getvalue()  # the rich progress bar was drawn
    assert not (tmp_path / "a.bin.part").exists()
    download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload))  # present and valid: no new request
    assert len(server.requests) == 1


def test_a_cached_file_that_fails_its_md5_is_downloaded_again(server, payload, tmp_path):
    server.files["/a.bin"] = payload
    download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload))
    (tmp_path / "a.bin").write_bytes(payload[:-1] + bytes([payload[-1] ^ 1]))  # one bit flipped on disk
    path = download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload))
    assert path.read_bytes() == payload and len(server.requests) == 2


def test_download_resumes_after_a_cut_connection_with_a_range_request(server, payload, tmp_path):
    server.files["/a.bin"] = payload
    server.cut_first.add("/a.bin")
    path = download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload), retries=2)
    assert path.read_bytes() == payload
    assert server.requests[0] == ("/a.bin", None)
    assert server.requests[1] == ("/a.bin", f"bytes={len(payload) // 2}-")


def test_a_cut_without_retries_keeps_the_partial_file_for_the_next_call(server, payload, tmp_path):
    server.files["/a.bin"] = payload
    server.cut_first.add("/a.bin")
    with pytest.raises(PinnError, match="resume"):
        download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload), retries=0)
    assert not (tmp_path / "a.bin").exists()
    assert (tmp_path / "a.bin.part").stat().st_size == len(payload) // 2
    download(server.url + "/a.bin", tmp_path / "a.bin", md5(payload), retries=0)
    assert (tmp_path / "a.bin").read_bytes() == payload
    assert server.requests[-1][1] == f"bytes={len(payload) // 2}-"


def test_checksum_mismatch_is_refused_and_nothing_is_left(server, payload, tmp_path):
    server.files["/a.bin"] = payload
    with pytest.raises(PinnError, match="md5"):
        download(server.url + "/a.bin", tmp_path / "a.bin", "0" * 32)
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_one_clear_message(server, tmp_path):
    with pytest.raises(PinnError, match="HTTP 404"):
        download(server.url + "/missing.tar.gz", tmp_path / "m.tar.gz", None)


def _tar_with(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info in members:
            if info.isfile():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buffer.getvalue()


@pytest.mark.parametrize("name,kind", [("../escape.bin", tarfile.REGTYPE), ("/abs/escape.bin", tarfile.REGTYPE),
                                       ("cifar-10-batches-bin/../../escape.bin", tarfile.REGTYPE),
                                       ("link", tarfile.SYMTYPE)])
def test_path_escaping_members_are_refused_and_nothing_is_extracted(tmp_path, name, kind):
    good = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
    bad = tarfile.TarInfo(name)
    bad.type = kind
    bad.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tar_with([good, bad]))
    target = tmp_path / "work" / "extracted"
    with pytest.raises(PinnError, match="unsafe"):
        extract_tar(archive, target)
    assert not target.exists()
    assert list((tmp_path / "work").iterdir()) == []
    assert not (tmp_path / "escape.bin").exists()


def test_truncated_archive_is_refused_and_nothing_is_extracted(tmp_path):
    rng = np.random.default_rng(1)
    cifar_binary_archive(tmp_path / "full.tar.gz", rng)
    raw = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(PinnError, match="corrupt or truncated"):
        extract_tar(tmp_path / "cut.tar.gz", tmp_path / "out" / "x")
    assert list((tmp_path / "out").iterdir()) == []


def test_cifar10_is_downloaded_verified_extracted_and_loaded(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    content = cifar_binary_archive(tmp_path / "cifar-10-binary.tar.gz", np.random.default_rng(5), per_batch=3)
    archive = (tmp_path / "cifar-10-binary.tar.gz").read_bytes()
    server.files["/cifar-10-binary.tar.gz"] = archive
    server.cut_first.add("/cifar-10-binary.tar.gz")
    images = load_cifar10(url=server.url + "/cifar-10-binary.tar.gz", md5=md5(archive))
    assert images.x_train.shape == (15, 3, 32, 32) and images.x_test.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(images.y_test.numpy(), content["test_batch.bin"][0])
    assert (tmp_path / "cache" / "cifar10" / "cifar-10-binary.tar.gz").read_bytes() == archive
    assert len(server.requests) == 2  # the cut, then the resumed request
    load_cifar10(url=server.url + "/cifar-10-binary.tar.gz", md5=md5(archive))  # cached: no download
    assert len(server.requests) == 2


def test_a_corrupted_cached_cifar_archive_is_rechecked_and_downloaded_again(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    cifar_binary_archive(tmp_path / "cifar-10-binary.tar.gz", np.random.default_rng(6), per_batch=2)
    archive = (tmp_path / "cifar-10-binary.tar.gz").read_bytes()
    server.files["/cifar-10-binary.tar.gz"] = archive
    url = server.url + "/cifar-10-binary.tar.gz"
    first = load_cifar10(url=url, md5=md5(archive))
    cached = tmp_path / "cache" / "cifar10" / "cifar-10-binary.tar.gz"
    cached.write_bytes(archive[: len(archive) // 2])  # the cached copy is damaged (a truncated copy, a bad disk)
    again = load_cifar10(url=url, md5=md5(archive))
    assert len(server.requests) == 2  # the md5 of the cached archive was checked and it was fetched again
    assert cached.read_bytes() == archive
    assert torch.equal(again.x_train, first.x_train) and torch.equal(again.y_test, first.y_test)


def test_corrupt_cifar_download_leaves_no_archive_and_no_folder(server, tmp_path, monkeypatch):
    monkeypatch.setenv("PINN_CACHE", str(tmp_path / "cache"))
    server.files["/c.tar.gz"] = b"\x1f\x8b not really a gzip stream" * 100
    with pytest.raises(PinnError, match="md5"):
        load_cifar10(url=server.url + "/c.tar.gz", md5="f" * 32)
    assert list((tmp_path / "cache" / "cifar10").iterdir()) == []
    with pytest.raises(PinnError, match="corrupt or truncated"):  # right md5 but not an archive
        load_cifar10(url=server.url + "/c.tar.gz", md5=md5(server.files["/c.tar.gz"]))
    assert list((tmp_path / "cache" / "cifar10").iterdir()) == []  # the useless download is gone too


def test_unreachable_server_is_one_clear_message_and_leaves_nothing(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PinnError, match="could not download .* --data-dir"):
        download(f"http://127.0.0.1:{port}/a.bin", tmp_path / "a.bin", None, retries=1)
    assert list(tmp_path.iterdir()) == []
