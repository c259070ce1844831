"""verify's result: one row per certificate, one check per column, each with a reason; as a table or JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "warn", "n/a"]
COLUMNS = ("key", "chain", "names", "validity", "key mode", "nanomq")
SYMBOLS = {"pass": "✔", "fail": "✘", "warn": "!", "n/a": "—"}


@dataclass
class Check:
    status: Status
    reason: str = ""


@dataclass
class Row:
    name: str
    role: str  # ca, intermediate, server, client
    cert_file: str
    checks: dict[str, Check] = field(default_factory=dict)
    dates: tuple[dt.datetime, dt.datetime] | None = None  # notBefore, notAfter (UTC), when readable

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks.values())


@dataclass
class Report:
    rows: list[Row]
    phase: list[str] = field(default_factory=list)  # a CA rotation's phase and next step (`check.rotation`)

    @property
    def ok(self) -> bool:
        return not any(row.failed for row in self.rows)

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "certificates": [
                {
                    "name": r.name,
                    "role": r.role,
                    "file": r.cert_file,
                    "ok": not r.failed,
                    "not_before": r.dates[0].isoformat() if r.dates else None,
                    "not_after": r.dates[1].isoformat() if r.dates else None,
                    "checks": {col: {"status": c.status, "reason": c.reason} for col, c in r.checks.items()},
                }
                for r in self.rows
            ],
            **({"rotation": self.phase} if self.phase else {}),
        }

    def table(self) -> str:
        widths = [
            max(len("certificate"), *(len(r.cert_file) for r in self.rows)),
            max(len("role"), *(len(r.role) for r in self.rows)),
        ]
        header = ["certificate".ljust(widths[0]), "role".ljust(widths[1]), *COLUMNS]
        lines = ["  ".join(header)]
        for row in self.rows:
            cells = [row.cert_file.ljust(widths[0]), row.role.ljust(widths[1])]
            cells += [SYMBOLS[row.checks[col].status].center(len(col)) for col in COLUMNS]
            lines.append("  ".join(cells).rstrip())
        notes = [
            f"{SYMBOLS[c.status]} {row.cert_file} {col}: {c.reason}"
            for row in self.rows
            for col, c in row.checks.items()
            if c.status in ("fail", "warn")
        ]
        verdict = "all checks passed" if self.ok else f"{sum(r.failed for r in self.rows)} certificate(s) failed"
        warnings = sum(c.status == "warn" for r in self.rows for c in r.checks.values())
        return (
            "\n".join(
                [
                    *lines,
                    "",
                    *notes,
                    *([""] if notes else []),
                    *self.phase,
                    *([""] if self.phase else []),
                    f"{verdict}{f', {warnings} warning(s)' if warnings else ''}",
                ]
            )
            + "\n"
        )
