"""`make audit [URL=http://127.0.0.1:8000]`: the reconciliation audit of unlocks and their
payments, through the gateway, for an operator after an incident. Exit 0 when consistent,
1 with the discrepancies listed, 2 when the API cannot be asked.

It authenticates with `BW_AUDIT_TOKEN` (an all-programme advisor token from the identity
provider) or, in development and test, mints one with BW_JWT_SECRET.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from shared.auth import mint_token
from shared.settings import get_settings

PATH = "/v1/reports/audit/unlock-payments"


def _token() -> str:
    given = os.environ.get("BW_AUDIT_TOKEN")
    if given:
        return given
    settings = get_settings()
    return mint_token(settings, sub="audit@bw", org="bw", role="advisor", countries=["*"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    args = parser.parse_args(argv)
    try:
        reply = httpx.get(
            args.url.rstrip("/") + PATH,
            headers={"Authorization": f"Bearer {_token()}"},
            timeout=120,
        )
    except httpx.HTTPError as exc:
        print(f"audit: could not reach {args.url}: {exc}", file=sys.stderr)
        return 2
    if reply.status_code != 200:
        print(f"audit: {reply.status_code} {reply.text}", file=sys.stderr)
        return 2
    report = reply.json()
    print(
        f"checked {report['unlocks_checked']} unlocks and {report['charges_checked']} held "
        f"charges at {report['checked_at']}; {report['in_flight']} in flight"
    )
    for found in report["discrepancies"]:
        ids = ", ".join(
            f"{name}={found[name]}" for name in ("unlock_id", "reference", "year") if found[name]
        )
        print(f"  {found['source']}: {found['code']} org={found['org']} {ids}: {found['detail']}")
    if report["consistent"]:
        print("consistent: every active unlock is paid once, every payment has its unlock")
        return 0
    print(f"{len(report['discrepancies'])} discrepancies")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
