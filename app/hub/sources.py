"""The model sources (Hugging Face, ModelScope, OpenXLab): addresses, what a source answers, probes.

A source turns a catalog model's id on it into a list of RemoteFile (size, hash, address of
the bytes, commit), every value validated by app.hub.safety; the transfer loop, the checks and
the cache are the same for all (app.hub.download). All sources download into the one cache
folder named after the model's Hugging Face id, so the same bytes from any source are the same
blob, and a partial file left by one source is continued by another when the hashes agree.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx2

from app.hub.errors import BadEndpointError, HubError
from app.hub.network import resolve_endpoint, session
from app.hub.verify import Expected
from app.internlm2.catalog import SOURCE_NAMES, CatalogModel, SourceRef

AUTO = "auto"
SOURCE_LABELS: dict[str, str] = {
    "huggingface": "Hugging Face", "modelscope": "ModelScope", "openxlab": "OpenXLab",
}
_DEFAULT_ENDPOINTS: dict[str, str] = {
    "huggingface": "https://huggingface.co",
    "modelscope": "https://www.modelscope.cn",
    "openxlab": "https://code.openxlab.org.cn",
}
_ENDPOINT_ENV: dict[str, tuple[str, ...]] = {
    "huggingface": ("HF_ENDPOINT",),
    "modelscope": ("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN"),  # the domain alone, as modelscope reads it
    "openxlab": ("OPENXLAB_ENDPOINT",),
}


class SourceOffline(Exception):
    """Internal: the HTTP client refused because huggingface-hub's offline mode is on."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of the model as a source describes it now (every field validated)."""

    expected: Expected
    url: str  # where the bytes come from (a CDN address for Hugging Face's LFS files)
    commit: str
    same_origin: bool  # the bytes come from the source itself (credentials may be sent)


@dataclass(frozen=True)
class FetchContext:
    """What a source needs to ask its hub: the address, the HTTP client and limits."""

    endpoint: str
    client: httpx2.Client
    timeout: float
    proxy: str | None
    token: str | bool | None
    cancel: threading.Event


class Source(Protocol):
    """One hub's public file API, as the app uses it."""

    name: str

    def list_files(self, model: CatalogModel, ref: SourceRef, ctx: FetchContext) -> list[RemoteFile]:
        """The catalog files of `model` at `ref`, all at one commit; raises HubError subclasses."""
        ...

    def fresh_url(self, model: CatalogModel, ref: SourceRef, f: RemoteFile, ctx: FetchContext) -> str | None:
        """A new address for `f` when a signed one expired (None: the source has no such thing)."""
        ...

    def probe_url(self, ref: SourceRef, endpoint: str) -> str:
        """A cheap address whose answer says the source is up and serves this repository."""
        ...

    def headers(self, ctx: FetchContext) -> dict[str, str]:
        """Headers of the byte transfers (user agent, the token for the source itself)."""
        ...


def source_endpoint(source: str, configured: str | None = None) -> str:
    """The address of `source`: the setting, else its environment variable, else the public hub."""
    if source not in SOURCE_NAMES:
        raise BadEndpointError(source)
    chosen = (configured or "").strip()
    if not chosen:
        for var in _ENDPOINT_ENV[source]:
            value = os.environ.get(var, "").strip()
            if value:
                chosen = value if "://" in value or var != "MODELSCOPE_DOMAIN" else f"https://{value}"
                break
    return resolve_endpoint(chosen or _DEFAULT_ENDPOINTS[source])


def endpoint_configured(source: str, configured: str | None = None) -> bool:
    """Whether the person named an address for `source` (setting or environment variable)."""
    return bool((configured or "").strip()) or any(os.environ.get(v, "").strip() for v in _ENDPOINT_ENV[source])


def get_source(name: str) -> Source:
    """The Source object for a name of SOURCE_NAMES."""
    from app.hub.source_api import ModelScopeSource, OpenXLabSource
    from app.hub.source_hf import HuggingFaceSource

    sources: dict[str, Callable[[], Source]] = {
        "huggingface": HuggingFaceSource, "modelscope": ModelScopeSource, "openxlab": OpenXLabSource,
    }
    if name not in sources:
        raise ValueError(f"unknown source {name!r}")
    return sources[name]()


def ref_name(ref: SourceRef) -> str:
    """The cache ref a source's revision is recorded under: `main` for Hugging Face (as its own
    tools write it), `<source>/<revision>` for the others, so two sources' branches never mix."""
    return ref.revision if ref.source == "huggingface" else f"{ref.source}/{ref.revision}"


# -- probing: which source answers fastest ---------------------------------------------------
@dataclass(frozen=True)
class ProbeResult:
    """How one source answered the probe."""

    source: str
    endpoint: str
    seconds: float | None  # None: no usable answer
    detail: str = ""  # why not, for the sentence

    def describe(self) -> str:
        label = SOURCE_LABELS.get(self.source, self.source)
        if self.seconds is None:
            return f"{label}: {self.detail}"
        return f"{label}: answered in {self.seconds:.2f} s"


@dataclass(frozen=True)
class SourceChoice:
    """The source a download uses and why: the probes (fastest first) when chosen automatically."""

    source: str
    automatic: bool
    probes: tuple[ProbeResult, ...] = ()
    fallback_from: str | None = None  # the source that failed before this one was tried

    def sentence(self) -> str:
        label = SOURCE_LABELS.get(self.source, self.source)
        if self.fallback_from is not None:
            return (f"{SOURCE_LABELS.get(self.fallback_from, self.fallback_from)} failed; "
                    f"continuing from {label}.")
        if not self.automatic:
            return f"Downloading from {label}."
        others = "; ".join(p.describe() for p in self.probes if p.source != self.source)
        return f"Downloading from {label}, the fastest source to answer" + (f" ({others})." if others else ".")


def probe_sources(
    model: CatalogModel, endpoints: dict[str, str], *, proxy: str | None, timeout: float,
    cancel: threading.Event, names: Sequence[str] | None = None,
) -> list[ProbeResult]:
    """Ask every source at once and rank them: answered first (fastest first), then the others.

    Bounded: all probes run in parallel and the call returns after `timeout` seconds at most
    (a probe still waiting then counts as "no answer"). A 404 (the source lacks the model), a
    5xx or a network error is no usable answer.
    """
    client = session(proxy)
    wanted = [n for n in (names or model.source_names) if model.on(n) is not None]
    results: dict[str, ProbeResult] = {}
    lock = threading.Lock()
    done = threading.Event()

    def probe(name: str) -> None:
        ref = model.on(name)
        assert ref is not None
        endpoint = endpoints.get(name) or _DEFAULT_ENDPOINTS[name]
        start = time.monotonic()
        try:
            endpoint = source_endpoint(name, endpoints.get(name))
            url = get_source(name).probe_url(ref, endpoint)
            response = client.request("GET", url, timeout=httpx2.Timeout(timeout),
                                      follow_redirects=False, headers={"Accept-Encoding": "identity"})
            response.close()
            if response.status_code >= 400:
                result = ProbeResult(name, endpoint, None, f"HTTP {response.status_code}")
            else:
                result = ProbeResult(name, endpoint, time.monotonic() - start)
        except httpx2.TimeoutException:
            result = ProbeResult(name, endpoint, None, f"no answer within {timeout:g} s")
        except (httpx2.HTTPError, OSError, HubError) as error:
            result = ProbeResult(name, endpoint, None, _short(error))
        with lock:
            results[name] = result
            if len(results) == len(wanted):
                done.set()

    for name in wanted:
        threading.Thread(target=probe, args=(name,), name=f"probe-{name}", daemon=True).start()
    deadline = time.monotonic() + timeout + 0.5
    while not done.is_set() and not cancel.is_set() and time.monotonic() < deadline:
        done.wait(0.05)
    with lock:
        final = [results.get(n) or ProbeResult(n, endpoints.get(n) or _DEFAULT_ENDPOINTS[n], None,
                                               f"no answer within {timeout:g} s") for n in wanted]
        done.set()  # late probes still write into `results`; nobody reads it any more
    answered = sorted((r for r in final if r.seconds is not None), key=lambda r: r.seconds or 0.0)
    return answered + [r for r in final if r.seconds is None]


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return (text[:120] or type(error).__name__) if text else type(error).__name__
