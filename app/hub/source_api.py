"""ModelScope and OpenXLab as sources: their public JSON file APIs, every answer validated.

Neither hub's client library is used (modelscope's is not installed here, OpenXLab's needs an
account); the app asks their HTTP APIs directly and downloads with its own transfer loop. The
URL shapes below follow the public APIs as published and used by their clients; they were NOT
checked against the live services from here (no network), only against the fakes in
tests/fakesources.py. See docs/model-sources.md.

ModelScope (https://www.modelscope.cn):
    GET {e}/api/v1/models/{repo}/repo/files?Revision={rev}&Recursive=true
        -> {"Code": 200, "Data": {"Files": [{"Path", "Size", "Sha256", "Revision"}, ...]}}
    GET {e}/api/v1/models/{repo}/repo?Revision={commit}&FilePath={path}   (the bytes; Range)
OpenXLab (its git service, Gitea-style, https://code.openxlab.org.cn):
    GET {e}/api/v1/repos/{repo}/branches/{rev}             -> {"commit": {"id": <commit>}}
    GET {e}/api/v1/repos/{repo}/git/trees/{commit}?recursive=true
        -> {"tree": [{"path", "type", "size", "sha"}]}     (sha: the git blob sha1)
    GET {e}/api/v1/repos/{repo}/git/blobs/{sha}            -> {"content": base64, "encoding"}
        (read for small entries: an LFS pointer there gives the file's sha256 and size)
    GET {e}/api/v1/repos/{repo}/media/{path}?ref={commit}  (the bytes, LFS resolved; Range)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import httpx2
from huggingface_hub.errors import OfflineModeIsEnabled

from app import APP_ID, __version__
from app.hub.errors import HubAccessError, HubServerError, RemoteFileNotFoundError
from app.hub.network import same_origin, translate
from app.hub.safety import (
    UnsafeAnswerError,
    check_blob_name,
    check_commit,
    check_download_url,
    check_size,
    is_safe_filename,
)
from app.hub.sources import FetchContext, RemoteFile, SourceOffline
from app.hub.verify import Expected
from app.internlm2.catalog import CatalogModel, SourceRef
from app.sentences import say

_MAX_JSON = 16 * 1024 * 1024  # a listing of a 1.8B model is a few KB; more is not an answer
_POINTER_MAX = 1024  # git-lfs pointer files are about 130 bytes
_LFS_HEADER = b"version https://git-lfs.github.com/spec/v1"
_POINTER_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.M)
_POINTER_SIZE = re.compile(rb"^size (\d{1,15})$", re.M)


def get_json(ctx: FetchContext, url: str, *, repo: str, revision: str, what: str) -> Any:
    """GET a JSON answer (bounded in size and time), failures turned into typed errors."""
    headers = {"Accept": "application/json", "User-Agent": f"{APP_ID}/{__version__}"}
    try:
        with ctx.client.stream("GET", url, headers=headers, timeout=httpx2.Timeout(ctx.timeout),
                               follow_redirects=True) as response:
            status = response.status_code
            if status == 404:
                raise RemoteFileNotFoundError(repo, revision, what, what="repository")
            if status in (401, 403):
                raise HubAccessError(repo, status)
            if status >= 400:
                raise HubServerError(ctx.endpoint, what, status)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _MAX_JSON or ctx.cancel.is_set():
                    raise HubServerError(ctx.endpoint, what, None, "the answer is far too large")
    except OfflineModeIsEnabled:
        raise SourceOffline() from None
    except (HubServerError, RemoteFileNotFoundError, HubAccessError):
        raise
    except Exception as error:
        raise translate(error, endpoint=ctx.endpoint, repo=repo, revision=revision, filename=what,
                        proxy=ctx.proxy) from error
    try:
        return json.loads(bytes(body))
    except ValueError:
        raise HubServerError(ctx.endpoint, what, None, "the answer is not JSON, so this address "
                             "may not be this hub or a mirror of it") from None


def _field(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _not_an_answer(ctx: FetchContext, what: str) -> HubServerError:
    return HubServerError(ctx.endpoint, what, None,
                          "the answer lacks the file list, so this address may not be this hub")


class ModelScopeSource:
    """ModelScope's file list (size, sha256 and commit of every file) and file download API."""

    name = "modelscope"

    def list_files(self, model: CatalogModel, ref: SourceRef, ctx: FetchContext) -> list[RemoteFile]:
        e = ctx.endpoint
        query = urlencode({"Revision": ref.revision, "Recursive": "true"})
        answer = get_json(ctx, f"{e}/api/v1/models/{quote(ref.repo)}/repo/files?{query}",
                          repo=ref.repo, revision=ref.revision, what=say("the file list"))
        entries = _field(answer, "Data", "Files")
        if not isinstance(entries, list):
            raise _not_an_answer(ctx, say("the file list"))
        by_path = {str(x.get("Path")): x for x in entries
                   if isinstance(x, dict) and is_safe_filename(x.get("Path"))}
        files: list[RemoteFile] = []
        for name in model.files:
            entry = by_path.get(name)
            if entry is None:
                raise RemoteFileNotFoundError(ref.repo, ref.revision, name)
            commit = check_commit(entry.get("Revision"), source=e, filename=name)
            if files and commit != files[0].commit:
                raise UnsafeAnswerError(e, say("commit id (not the one of the other files)"), commit, name)
            sha = entry.get("Sha256")
            if not (isinstance(sha, str) and len(sha) == 64):
                raise UnsafeAnswerError(e, say("file hash (Sha256)"), sha, name)
            query = urlencode({"Revision": commit, "FilePath": name})
            url = check_download_url(f"{e}/api/v1/models/{quote(ref.repo)}/repo?{query}", e,
                                     source=e, filename=name)
            files.append(RemoteFile(
                Expected(name, check_size(entry.get("Size"), source=e, filename=name),
                         check_blob_name(sha, source=e, filename=name)),
                url, commit, same_origin(url, e),
            ))
        return files

    def fresh_url(self, model: CatalogModel, ref: SourceRef, f: RemoteFile, ctx: FetchContext) -> str | None:
        return None

    def probe_url(self, ref: SourceRef, endpoint: str) -> str:
        return f"{endpoint}/api/v1/models/{quote(ref.repo)}/revisions"

    def headers(self, ctx: FetchContext) -> dict[str, str]:
        return {"User-Agent": f"{APP_ID}/{__version__}"}


class OpenXLabSource:
    """OpenXLab's git service: branch -> commit, the tree (git sha1s), LFS pointers, media download."""

    name = "openxlab"

    def list_files(self, model: CatalogModel, ref: SourceRef, ctx: FetchContext) -> list[RemoteFile]:
        e, repo = ctx.endpoint, quote(ref.repo)
        base = f"{e}/api/v1/repos/{repo}"
        if re.fullmatch(r"[0-9a-f]{40}", ref.revision):
            commit = ref.revision
        else:
            branch = get_json(ctx, f"{base}/branches/{quote(ref.revision, safe='')}",
                              repo=ref.repo, revision=ref.revision, what=say("the revision"))
            commit = check_commit(_field(branch, "commit", "id"), source=e, filename="")
        tree = _field(get_json(ctx, f"{base}/git/trees/{commit}?recursive=true&per_page=10000",
                               repo=ref.repo, revision=ref.revision, what=say("the file list")), "tree")
        if not isinstance(tree, list):
            raise _not_an_answer(ctx, say("the file list"))
        by_path = {str(x.get("path")): x for x in tree
                   if isinstance(x, dict) and x.get("type") == "blob" and is_safe_filename(x.get("path"))}
        files: list[RemoteFile] = []
        for name in model.files:
            entry = by_path.get(name)
            if entry is None:
                raise RemoteFileNotFoundError(ref.repo, ref.revision, name)
            sha1 = entry.get("sha")
            if not (isinstance(sha1, str) and len(sha1) == 40):
                raise UnsafeAnswerError(e, say("git blob id"), sha1, name)
            size = check_size(entry.get("size"), source=e, filename=name)
            etag = check_blob_name(sha1, source=e, filename=name)
            if size <= _POINTER_MAX:  # maybe an LFS pointer: the real file's sha256 and size are in it
                pointer = self._pointer(ctx, base, sha1, ref, name)
                if pointer is not None:
                    etag, size = pointer
            url = check_download_url(f"{base}/media/{quote(name)}?{urlencode({'ref': commit})}", e,
                                     source=e, filename=name)
            files.append(RemoteFile(Expected(name, size, etag), url, commit, same_origin(url, e)))
        return files

    def _pointer(self, ctx: FetchContext, base: str, sha1: str, ref: SourceRef,
                 name: str) -> tuple[str, int] | None:
        """(sha256, size) when the blob `sha1` is a git-lfs pointer, None when it is the file itself."""
        blob = get_json(ctx, f"{base}/git/blobs/{sha1}", repo=ref.repo, revision=ref.revision, what=name)
        content = _field(blob, "content")
        if not isinstance(content, str) or _field(blob, "encoding") != "base64":
            raise _not_an_answer(ctx, name)
        try:
            data = base64.b64decode(content, validate=False)
        except (binascii.Error, ValueError):
            raise _not_an_answer(ctx, name) from None
        if not data.startswith(_LFS_HEADER):
            return None
        oid, size = _POINTER_OID.search(data), _POINTER_SIZE.search(data)
        if oid is None or size is None:
            raise UnsafeAnswerError(ctx.endpoint, say("LFS pointer"), data[:80].decode("ascii", "replace"), name)
        return (check_blob_name(oid.group(1).decode(), source=ctx.endpoint, filename=name),
                check_size(int(size.group(1)), source=ctx.endpoint, filename=name))

    def fresh_url(self, model: CatalogModel, ref: SourceRef, f: RemoteFile, ctx: FetchContext) -> str | None:
        return None

    def probe_url(self, ref: SourceRef, endpoint: str) -> str:
        return f"{endpoint}/api/v1/repos/{quote(ref.repo)}"

    def headers(self, ctx: FetchContext) -> dict[str, str]:
        return {"User-Agent": f"{APP_ID}/{__version__}"}
