"""Hugging Face (or an HF mirror) as a source: huggingface-hub's HEAD of each file, validated.

URL shapes are the library's: `HEAD {endpoint}/{repo}/resolve/{revision}/{file}` answers the
commit (X-Repo-Commit), the hash (X-Linked-Etag for LFS files, ETag else) and the size, and for
LFS files a redirect to the CDN address of the bytes.
"""

from __future__ import annotations

from huggingface_hub import HfFileMetadata, get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import OfflineModeIsEnabled
from huggingface_hub.utils import build_hf_headers

from app import APP_ID, __version__
from app.hub.errors import DownloadCancelled, HubServerError
from app.hub.network import same_origin, translate
from app.hub.safety import (
    UnsafeAnswerError,
    check_blob_name,
    check_commit,
    check_download_url,
    check_size,
)
from app.hub.sources import FetchContext, RemoteFile, SourceOffline
from app.hub.verify import Expected
from app.internlm2.catalog import CatalogModel, SourceRef
from app.sentences import say


class HuggingFaceSource:
    """huggingface-hub's metadata calls; the bytes go through the app's transfer loop."""

    name = "huggingface"

    def list_files(self, model: CatalogModel, ref: SourceRef, ctx: FetchContext) -> list[RemoteFile]:
        """HEAD every file; the first answer pins the commit so all files come from one commit.

        Every value of the answers that becomes part of a local path or decides the check is
        validated here, before anything is written (app.hub.safety).
        """
        endpoint = ctx.endpoint
        files: list[RemoteFile] = []
        revision = ref.revision
        for filename in model.files:
            if ctx.cancel.is_set():
                raise DownloadCancelled(model.name)
            meta = self._head(ref, filename, revision, ctx)
            if meta.commit_hash is None or meta.etag is None or meta.size is None:
                raise HubServerError(
                    endpoint, filename, None,
                    "the answer lacks the hub's file headers (commit, ETag, size), "
                    "so this address may not be a hub or mirror",
                )
            commit = check_commit(meta.commit_hash, source=endpoint, filename=filename)
            if files and commit != files[0].commit:
                raise UnsafeAnswerError(endpoint, say("commit id (not the one of the other files)"),
                                        commit, filename)
            url = check_download_url(
                meta.location, hf_hub_url(ref.repo, filename, revision=revision, endpoint=endpoint),
                source=endpoint, filename=filename,
            )
            files.append(RemoteFile(
                expected=Expected(
                    filename,
                    check_size(meta.size, source=endpoint, filename=filename),
                    check_blob_name(meta.etag, source=endpoint, filename=filename),
                ),
                url=url, commit=commit, same_origin=same_origin(url, endpoint),
            ))
            revision = commit
        return files

    def fresh_url(self, model: CatalogModel, ref: SourceRef, f: RemoteFile, ctx: FetchContext) -> str | None:
        if f.same_origin:
            return None
        meta = self._head(ref, f.expected.filename, f.commit, ctx)
        return check_download_url(meta.location, f.url, source=ctx.endpoint, filename=f.expected.filename)

    def probe_url(self, ref: SourceRef, endpoint: str) -> str:
        return hf_hub_url(ref.repo, "config.json", revision=ref.revision, endpoint=endpoint)

    def headers(self, ctx: FetchContext) -> dict[str, str]:
        return build_hf_headers(token=ctx.token, library_name=APP_ID, library_version=__version__)

    def _head(self, ref: SourceRef, filename: str, revision: str, ctx: FetchContext) -> HfFileMetadata:
        """huggingface-hub's HEAD of one file, failures turned into typed errors."""
        url = hf_hub_url(ref.repo, filename, revision=revision, endpoint=ctx.endpoint)
        try:
            return get_hf_file_metadata(
                url, token=ctx.token, timeout=ctx.timeout, endpoint=ctx.endpoint,
                library_name=APP_ID, library_version=__version__,
            )
        except OfflineModeIsEnabled:
            raise SourceOffline() from None
        except Exception as error:  # every failure becomes a typed, user-facing error
            raise translate(
                error, endpoint=ctx.endpoint, repo=ref.repo, revision=ref.revision,
                filename=filename, proxy=ctx.proxy,
            ) from error
