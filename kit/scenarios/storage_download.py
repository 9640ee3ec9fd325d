"""Scenario ``storage_download`` (seeds/002): a sync storage download inside ``async def``.

    s = kit.scenarios.storage_download(kit.target("embedded"))
    s.setup()                        # buckets reference-ads / generated-ads, a 27 KB WEBP, a cp1252 CSV
    s.compare(concurrency=8)         # kit.diff of broken vs fixed, N downloads at once: stalls traced to lines
    s.fault_replay("edge-html-under-load")
    s.checks()                       # named pass/fail checks for the report
"""

from __future__ import annotations

import base64
import html
import uuid
from dataclasses import dataclass, field
from typing import Any

from kit.arena import call_off_loop
from kit.checks import Check, Checks
from kit.scenarios import ad_creation_service as ads
from kit.scenarios.base import Scenario, asset_bytes, construct, label_of
from kit.scenarios.fault_profiles import fault_rules, with_latency
from kit.scenarios.interface import Interface, Method

FIXED = ("to_thread", "async_client", "sync")
IMAGE_NAME = "kit_reference_ad.webp"
CSV_NAME = "dashboards/kit_sales_data_sample.csv"
SERVICE_FILE = "kit/scenarios/ad_creation_service.py"


@dataclass
class SetupSummary:
    """What ``setup()`` found or created on the target."""

    target: str
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<SetupSummary {self.target}: created {len(self.created)}, already there {len(self.present)}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        items = "".join(f"<li>created <code>{html.escape(x)}</code></li>" for x in self.created)
        items += "".join(f"<li>already there <code>{html.escape(x)}</code></li>" for x in self.present)
        return {"text/plain": repr(self), "text/html": f"<p>Set up on {html.escape(self.target)}:</p><ul>{items}</ul>"}


class StorageDownloadScenario(Scenario):
    name = "storage_download"
    title = "Storage download: a sync call inside async def"
    seed = "002_5f0752edc825878a.txt"
    notebook = "01_storage_download.ipynb"
    implementations = ads.IMPLEMENTATIONS
    interface = Interface("storage_download", "(supabase: Client | AsyncClient, reference_bucket: "
                          "str = 'reference-ads', generated_bucket: str = 'generated-ads')", (
        Method("download_image", "(self, storage_path: str) -> bytes",
               "exact bytes under concurrency; the event loop is never blocked"),
        Method("get_image_as_base64", "(self, storage_path: str) -> str",
               "never base64-encodes an edge's HTML page as an image"),
        Method("upload_generated_ad", "(self, name: str, data: bytes, content_type: str) -> str",
               "uploads under concurrency without errors or loop stalls"),
    ))

    @property
    def reference_bucket(self) -> str:
        return self.names.bucket("reference-ads")

    @property
    def generated_bucket(self) -> str:
        return self.names.bucket("generated-ads")

    @property
    def image_path(self) -> str:
        return f"{self.reference_bucket}/{IMAGE_NAME}"

    @property
    def csv_path(self) -> str:
        return f"{self.reference_bucket}/{CSV_NAME}"

    def service_options(self) -> dict[str, Any]:
        return {"reference_bucket": self.reference_bucket, "generated_bucket": self.generated_bucket}

    def setup(self) -> SetupSummary:
        """Create the two public buckets if missing and upload the image and the CSV (upsert)."""
        from storage3.exceptions import StorageApiError

        summary = SetupSummary(f"{self.target.kind} {self.target.url}")
        storage = self.admin.storage
        for bucket in (self.reference_bucket, self.generated_bucket):
            try:
                storage.get_bucket(bucket)
                summary.present.append(f"bucket {bucket}")
            except StorageApiError:
                storage.create_bucket(bucket, options={"public": True})
                self.ledger.buckets.append(bucket)
                summary.created.append(f"bucket {bucket}")
        for path, data, kind in ((IMAGE_NAME, asset_bytes("reference_ad.webp"), "image/webp"),
                                 (CSV_NAME, asset_bytes("sales_data_sample.csv"), "text/csv")):
            storage.from_(self.reference_bucket).upload(path, data, {"content-type": kind, "upsert": "true"})
            self.ledger.objects.append((self.reference_bucket, path))
            summary.created.append(f"object {self.reference_bucket}/{path} ({len(data)} bytes)")
        self._setup_done = True
        return summary

    def diff(self, variants: tuple[str | type, ...] = ("broken", *FIXED), *, concurrency: int = 8,
             method: str = "download_image", faults: Any = None, latency_ms: float = 0.0) -> Any:
        """``kit.diff`` of implementations: each makes ``concurrency`` calls of ``method`` at once
        in its own arena, watched for stalls; ``latency_ms`` puts every storage request a
        realistic network round trip away (client side)."""
        from kit.diff import diff

        self.require_setup()
        factories = {label_of(v): self._factory(v) for v in variants}
        return diff(service_factory=factories, call=self._call(method),
                    target=self.target, concurrency=concurrency,
                    faults=with_latency(faults, latency_ms), retry=False)

    def _factory(self, which: str | type) -> Any:
        cls = self.implementation(which)
        options = self.service_options()
        return lambda clients: construct(cls, clients, **options)

    def _call(self, method: str) -> Any:
        """Each copy's call; sync methods go through a thread, as a sync caller's would."""
        if method.startswith("upload_"):
            bucket = self.generated_bucket if method == "upload_generated_ad" else self.reference_bucket
            data = asset_bytes("reference_ad.webp")

            def upload(service: Any) -> Any:
                name = f"kit_upload_{uuid.uuid4().hex[:8]}.webp"
                self.ledger.objects.append((bucket, name))
                return call_off_loop(getattr(service, method), name, data, "image/webp")
            return upload
        return lambda service: call_off_loop(getattr(service, method), self.image_path)

    def compare(self, *, concurrency: int = 8, latency_ms: float = 50.0,
                variants: tuple[str | type, ...] = ("broken", *FIXED),
                implementation: str | type | None = None) -> Any:
        """Broken and fixed ``download_image``, ``concurrency`` calls at once, every storage
        request ``latency_ms`` away as a real project would be; ``implementation`` (your class
        or ``"module:Class"``) gets its own row in the table and lane in ``plot()``."""
        return self.diff(_with(variants, implementation), concurrency=concurrency,
                         latency_ms=latency_ms)

    def fault_replay(self, profile: str = "edge-html-under-load", *, seed: int = 7,
                     concurrency: int = 8, variants: tuple[str | type, ...] = ("broken", "to_thread"),
                     implementation: str | type | None = None) -> Any:
        """The edge's bad day: ``get_image_as_base64`` under the rules of ``profile``."""
        return self.diff(_with(variants, implementation), concurrency=concurrency,
                         method="get_image_as_base64", faults=fault_rules(profile, seed=seed))

    def panel_run(self, implementation: str, concurrency: int, fault_profile: str) -> Any:
        return self.diff((implementation,), concurrency=concurrency, method="get_image_as_base64",
                         faults=fault_rules(fault_profile), latency_ms=50.0)

    def edge_pages(self, report: Any) -> Any:
        """The exchanges of ``report`` answered by the edge with an HTML page (rendered)."""
        return report.capture.filter(predicate=lambda ex: ex.fault_rule is not None
                                     and "html" in (ex.content_type or ""))

    def csv_download(self) -> Any:
        """The CSV from seeds/000 (cp1252 bytes), downloaded and rendered with its encoding."""
        from kit.render import render_body  # the kit's renderer: encoding detection and marks

        self.require_setup()
        data = self.admin.storage.from_(self.reference_bucket).download(CSV_NAME)
        return RenderedBody(data, "text/csv", render_body(data, "text/csv"))

    def checks(self, implementation: str | type | None = None, *, concurrency: int = 8,
               fault_profile: str = "edge-html-200", seed: int = 7, latency_ms: float = 50.0) -> Checks:
        """The scenario's named checks: for the built-in variants, or for ``implementation``."""
        self.require_setup()
        candidates: tuple[str | type, ...] = (implementation,) if implementation else FIXED
        variants = candidates if implementation else ("broken", *candidates)
        expected = asset_bytes("reference_ad.webp")
        downloads = self.diff(variants, concurrency=concurrency, latency_ms=latency_ms)
        uploads = self.diff(candidates, concurrency=concurrency, method="upload_generated_ad")
        faulty = self.diff(variants, concurrency=concurrency, method="get_image_as_base64",
                           faults=fault_rules(fault_profile, seed=seed))
        checks = Checks(scenario=self.name)
        for which in candidates:
            label = label_of(which)
            row = downloads[label]
            exact = [v == expected for v in values(row)]
            checks.add(Check(f"{label} returns the exact image bytes under concurrency {concurrency}",
                             len(exact) == concurrency and all(exact),
                             f"{sum(exact)}/{concurrency} exact; errors: {error_summary(row)}",
                             figures={"wall_ms": round(row.wall_ms, 1)}))
            blocked = sync_sdk_stalls(row)
            checks.add(Check(f"{label} keeps the event loop free", not blocked,
                             f"{len(blocked)} stalls in sync SDK calls" + (
                                 f", first at {blocked[0].traced_to}" if blocked else ""),
                             figures={"max_stall_ms": round(row.max_stall_ms, 1)}))
            up = uploads[label]
            checks.add(Check(f"{label} uploads under concurrency {concurrency}",
                             not errors(up) and not sync_sdk_stalls(up),
                             f"errors: {error_summary(up)}; {len(sync_sdk_stalls(up))} loop stalls "
                             "in sync SDK calls"))
            html_encoded = [v for v in values(faulty[label]) if is_base64_html(v)]
            checks.add(Check(f"{label} never base64-encodes an HTML page as an image "
                             f"('{fault_profile}')", not html_encoded,
                             f"{len(html_encoded)} HTML pages encoded; errors: {error_summary(faulty[label])}"))
        if implementation is None:
            checks.extend(self._broken_checks(downloads["broken"], faulty["broken"], concurrency,
                                              fault_profile, latency_ms))
            checks.add(self._csv_check())
        return checks

    def _broken_checks(self, row: Any, faulty: Any, concurrency: int, fault_profile: str,
                       latency_ms: float) -> list[Check]:
        traced = stalls_in(row, SERVICE_FILE, "download_image")
        line = traced[0].user_frame.where if traced and traced[0].user_frame else "(not traced)"
        stalled_ms = sum(s.duration_ms for s in traced)
        serial_ms = concurrency * latency_ms
        html_encoded = [v for v in values(faulty) if is_base64_html(v)]
        pages = [ex for ex in faulty.exchanges if ex.fault_rule and "html" in (ex.content_type or "")]
        buried = [e for e in errors(faulty) if "<html" in str(e).lower() or "<!doctype" in str(e).lower()
                  or type(e).__name__ == "JSONDecodeError"]
        return [
            Check("broken: the stall is measured and traced to the sync download line",
                  bool(traced), f"{len(traced)} stalls traced to {line}; max stall "
                                f"{row.max_stall_ms:.0f} ms", figures={"max_stall_ms": round(row.max_stall_ms, 1)},
                  expected_failure=True),
            Check("broken: the loop is blocked for ≥ 0.8 × the downloads' network time",
                  latency_ms > 0 and stalled_ms >= 0.8 * serial_ms,
                  f"stalled {stalled_ms:.0f} ms for {concurrency} × {latency_ms:g} ms of network time",
                  figures={"stalled_ms": round(stalled_ms, 1), "wall_ms": round(row.wall_ms, 1)},
                  expected_failure=True),
            Check(f"broken: lets the edge's HTML page through undetected ('{fault_profile}')",
                  bool(html_encoded or buried) or not pages,
                  (f"{len(html_encoded)} of {concurrency} results were HTML encoded as an image; "
                   f"{len(buried)} raised with the page buried in the message") if pages else
                  "no page reached it: the blocked loop sent its requests one at a time, so a "
                  "fault that needs requests in flight never fired", expected_failure=True),
        ]

    def _csv_check(self) -> Check:
        from kit.render.text import decode_text

        body = self.csv_download()
        decoded = decode_text(body.data)
        same = body.data == asset_bytes("sales_data_sample.csv")
        return Check("the non-UTF-8 CSV round-trips byte for byte and is decoded as cp1252",
                     same and decoded.encoding.lower() in ("cp1252", "windows-1252", "latin-1", "iso-8859-1"),
                     f"{len(body.data)} bytes, detected {decoded.encoding}")


def _with(variants: tuple[str | type, ...], implementation: str | type | None) -> tuple[str | type, ...]:
    """The built-in variants, and the user's implementation as the last row when given."""
    return (*variants, implementation) if implementation else variants


def values(row: Any) -> list[Any]:
    """The values a diff row's calls returned (errors left out)."""
    return [o.value for o in row.run.outcomes if o.error is None]


def errors(row: Any) -> list[BaseException]:
    return [o.error for o in row.run.outcomes if o.error is not None]


def error_summary(row: Any) -> str:
    kinds: dict[str, int] = {}
    for error in errors(row):
        kinds[type(error).__name__] = kinds.get(type(error).__name__, 0) + 1
    return ", ".join(f"{n}× {name}" for name, n in sorted(kinds.items())) or "none"


def stalls_in(row: Any, filename_suffix: str, function: str | None = None) -> list[Any]:
    """Stalls of a row whose user frame is in that file (and function)."""
    return [s for s in row.stalls if s.user_frame is not None
            and s.user_frame.filename.endswith(filename_suffix)
            and (function is None or s.user_frame.function == function)]


def sync_sdk_stalls(row: Any) -> list[Any]:
    """Stalls spent inside a sync SDK call (``_sync/`` modules, httpx's sync client)."""
    return [s for s in row.stalls if s.sdk_frame is not None and any(
        part in s.sdk_frame.filename for part in ("/_sync/", "httpx/_client.py", "httpcore/_sync/"))]


def is_base64_html(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        head = base64.b64decode(value[:400] + "=" * (-len(value[:400]) % 4))
    except ValueError:
        return False
    return head.lstrip().lower().startswith((b"<!doctype html", b"<html"))



@dataclass(frozen=True)
class RenderedBody:
    data: bytes
    content_type: str
    html: str

    def __repr__(self) -> str:
        return f"<RenderedBody {self.content_type} {len(self.data)} bytes>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self.html}
