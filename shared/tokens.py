"""`make token ROLE=partner ORG=brand-1 [COUNTRIES=BD,KH] [SUB=user-1]`: a development token
signed with BW_JWT_SECRET, valid for 12 hours."""

from __future__ import annotations

import argparse

from shared.auth import ROLES, mint_token
from shared.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--org", required=True)
    parser.add_argument("--sub", default="")
    parser.add_argument("--countries", default="", help="advisors: comma-separated, or *")
    args = parser.parse_args()
    countries = [c.strip() for c in args.countries.split(",") if c.strip()] or None
    if args.role == "advisor" and countries is None:
        countries = ["*"]
    print(
        mint_token(
            get_settings(),
            sub=args.sub or f"{args.role}-user@{args.org}",
            org=args.org,
            role=args.role,
            countries=countries,
            ttl_s=12 * 3600,
        )
    )


if __name__ == "__main__":
    main()
