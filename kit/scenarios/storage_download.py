"""Scenario ``storage_download`` (seeds/002): a sync storage download inside ``async def``.

    s = kit.scenarios.storage_download(kit.target("embedded"))
    s.setup()                        # buckets reference-ads / generated-ads, a 27 KB WEBP, a cp1252 CSV
    s.compare(concurrency=8)         # broken vs fixed, N downloads at once: stalls traced to lines
    s.fault_replay("edge-html-under-load")
    s.checks()                       # named pass/fail checks for the report
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

from kit.checks import Check, Checks
from kit.scenarios import ad_creation_service as ads
from kit.scenarios.base import Scenario, asset_bytes, label_of
from kit.scenarios.fault_profiles import fault_rules, with_latency
from kit.scenarios.variants import VariantComparison, VariantRun, run_variant

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

    def run(self, which: str | type, *, concurrency: int = 8, method: str = "download_image",
            faults: Any = None, latency_ms: float = 0.0) -> VariantRun:
        """``concurrency`` calls of one implementation's method at once, watched for stalls;
        ``latency_ms`` adds a realistic network round trip to every storage request."""
        self.require_setup()
        make_service, close = self.service_factory(which, with_latency(faults, latency_ms))
        if method == "upload_generated_ad":
            self.ledger.objects += [(self.generated_bucket, f"kit_upload_{i}.webp") for i in range(concurrency)]
        elif method == "upload_reference_ad":
            self.ledger.objects += [(self.reference_bucket, f"kit_upload_{i}.webp") for i in range(concurrency)]
        run = run_variant(which if isinstance(which, str) else which.__name__, make_service, method,
                          self._args_for(method), concurrency=concurrency, close=close)
        return run

    def _args_for(self, method: str) -> Any:
        if method.startswith("upload_"):
            data = asset_bytes("reference_ad.webp")
            return lambda i: (f"kit_upload_{i}.webp", data, "image/webp")
        return lambda i: (self.image_path,)

    def compare(self, *, concurrency: int = 8, variants: tuple[str, ...] = ("broken", *FIXED),
                method: str = "download_image", latency_ms: float = 50.0) -> VariantComparison:
        """Broken and fixed implementations, each making ``concurrency`` calls at once, every
        storage request ``latency_ms`` away (as a real project would be)."""
        runs = [self.run(v, concurrency=concurrency, method=method, latency_ms=latency_ms)
                for v in variants]
        comparison = VariantComparison(f"{method} × {concurrency} at once, {latency_ms:g} ms network "
                                       "latency", runs)
        for run in runs:
            comparison.verdicts[run.variant] = self._verdict(run, method)
        return comparison

    def _verdict(self, run: VariantRun, method: str) -> str:
        blocked = run.sync_sdk_stalls()
        if blocked:
            return f"blocks the event loop ({blocked[0].duration_ms:.0f} ms at {blocked[0].traced_to})"
        if run.errors:
            return f"errors: {run.error_summary()}"
        return (f"correct; no I/O on the loop (longest tick {run.max_stall_ms:.0f} ms: CPU work, "
                "not waiting)" if run.stalls else "correct; the loop stayed free")

    def fault_replay(self, profile: str = "edge-html-under-load", *, seed: int = 7,
                     concurrency: int = 8, variants: tuple[str, ...] = ("broken", "to_thread")
                     ) -> VariantComparison:
        """The edge's bad day: the rules of ``profile`` applied to every variant's calls."""
        rules = fault_rules(profile, seed=seed)
        runs = [self.run(v, concurrency=concurrency, method="get_image_as_base64", faults=rules)
                for v in variants]
        comparison = VariantComparison(f"get_image_as_base64 × {concurrency} with faults "
                                       f"'{profile}' (seed {seed})", runs)
        for run in runs:
            html_encoded = [v for v in run.values if _is_base64_html(v)]
            comparison.verdicts[run.variant] = (
                f"{len(html_encoded)} HTML pages base64-encoded as if they were images" if html_encoded
                else f"errors: {run.error_summary()}" if run.errors else "all calls returned the image")
        return comparison

    def csv_download(self) -> Any:
        """The CSV from seeds/000 (cp1252 bytes), downloaded and rendered with its encoding."""
        from kit.render import render_body  # the kit's renderer: encoding detection and marks

        self.require_setup()
        data = self.admin.storage.from_(self.reference_bucket).download(CSV_NAME)
        return RenderedBody(data, "text/csv", render_body(data, "text/csv"))

    def cleanup(self) -> list[str]:
        """On a user's project: remove the objects and buckets this scenario created, nothing else."""
        if self.target.is_embedded:
            return []
        removed: list[str] = []
        by_bucket: dict[str, set[str]] = {}
        for bucket, path in self.ledger.objects:
            by_bucket.setdefault(bucket, set()).add(path)
        for bucket, paths in by_bucket.items():
            self.admin.storage.from_(bucket).remove(sorted(paths))
            removed += [f"object {bucket}/{p}" for p in sorted(paths)]
        for bucket in reversed(self.ledger.buckets):
            self.admin.storage.delete_bucket(bucket)  # refuses if someone else put objects there
            removed.append(f"bucket {bucket}")
        self.ledger.objects.clear()
        self.ledger.buckets.clear()
        return removed

    def checks(self, implementation: str | type | None = None, *, concurrency: int = 8,
               fault_profile: str = "edge-html-200", seed: int = 7, latency_ms: float = 50.0) -> Checks:
        """The scenario's named checks: for the built-in variants, or for ``implementation``."""
        self.require_setup()
        expected = asset_bytes("reference_ad.webp")
        checks = Checks(scenario=self.name)
        candidates = [implementation] if implementation else list(FIXED)
        for which in candidates:
            label = label_of(which)
            run = self.run(which, concurrency=concurrency, latency_ms=latency_ms)
            exact = [v == expected for v in run.values]
            checks.add(Check(f"{label} returns the exact image bytes under concurrency {concurrency}",
                             len(exact) == concurrency and all(exact),
                             f"{sum(exact)}/{concurrency} exact; errors: {run.error_summary()}",
                             figures={"wall_ms": round(run.wall_ms, 1)}))
            blocked = run.sync_sdk_stalls()
            checks.add(Check(f"{label} keeps the event loop free", not blocked,
                             f"{len(blocked)} stalls in sync SDK calls" + (
                                 f", first at {blocked[0].traced_to}" if blocked else ""),
                             figures={"max_stall_ms": round(run.max_stall_ms, 1)}))
            uploads = self.run(which, concurrency=concurrency, method="upload_generated_ad")
            checks.add(Check(f"{label} uploads under concurrency {concurrency}",
                             not uploads.errors and not uploads.sync_sdk_stalls(),
                             f"errors: {uploads.error_summary()}; "
                             f"{len(uploads.sync_sdk_stalls())} loop stalls in sync SDK calls"))
            faulty = self.run(which, concurrency=concurrency, method="get_image_as_base64",
                              faults=fault_rules(fault_profile, seed=seed))
            encoded_html = [v for v in faulty.values if _is_base64_html(v)]
            checks.add(Check(f"{label} never base64-encodes an HTML page as an image "
                             f"('{fault_profile}')", not encoded_html,
                             f"{len(encoded_html)} HTML pages encoded; errors: {faulty.error_summary()}"))
        if implementation is None:
            checks.extend(self._broken_checks(concurrency, fault_profile, seed, latency_ms))
            checks.add(self._csv_check())
        return checks

    def _broken_checks(self, concurrency: int, fault_profile: str, seed: int,
                       latency_ms: float) -> list[Check]:
        run = self.run("broken", concurrency=concurrency, latency_ms=latency_ms)
        traced = run.stalls_in(SERVICE_FILE, "download_image")
        line = traced[0].user_frame.where if traced and traced[0].user_frame else "(not traced)"
        stalled_ms = sum(s.duration_ms for s in traced)
        serial_ms = concurrency * latency_ms
        faulty = self.run("broken", concurrency=concurrency, method="get_image_as_base64",
                          faults=fault_rules(fault_profile, seed=seed))
        encoded_html = [v for v in faulty.values if _is_base64_html(v)]
        return [
            Check("broken: the stall is measured and traced to the sync download line",
                  bool(traced), f"{len(traced)} stalls traced to {line}; max stall "
                                f"{run.max_stall_ms:.0f} ms", figures={"max_stall_ms": round(run.max_stall_ms, 1)},
                  expected_failure=True),
            Check("broken: the loop is blocked for ≥ 0.8 × the downloads' network time",
                  latency_ms > 0 and stalled_ms >= 0.8 * serial_ms,
                  f"stalled {stalled_ms:.0f} ms for {concurrency} × {latency_ms:g} ms of network time",
                  figures={"stalled_ms": round(stalled_ms, 1), "wall_ms": round(run.wall_ms, 1)},
                  expected_failure=True),
            Check(f"broken: base64-encodes the HTML page as if it were an image ('{fault_profile}')",
                  bool(encoded_html), f"{len(encoded_html)} of {concurrency} results were HTML",
                  expected_failure=True),
        ]

    def _csv_check(self) -> Check:
        from kit.render.text import decode_text

        body = self.csv_download()
        decoded = decode_text(body.data)
        same = body.data == asset_bytes("sales_data_sample.csv")
        return Check("the non-UTF-8 CSV round-trips byte for byte and is decoded as cp1252",
                     same and decoded.encoding.lower() in ("cp1252", "windows-1252", "latin-1", "iso-8859-1"),
                     f"{len(body.data)} bytes, detected {decoded.encoding}")


def _is_base64_html(value: Any) -> bool:
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
