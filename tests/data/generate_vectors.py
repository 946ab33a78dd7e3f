#!/usr/bin/env python3
"""Regenerate tests/data/vectors.json with the reference Bedrock token generator.

The tokens are produced by the reference library itself (PyPI package
``aws-bedrock-token-generator`` 1.1.0, function
``aws_bedrock_token_generator.token_generator._generate_token``), not by a
re-implementation. The only thing this script changes is the clock: the time
that botocore's SigV4 signer reads is frozen to each vector's signing time.

How to run (from the repository root):

    python3 -m venv /tmp/v
    /tmp/v/bin/pip install aws-bedrock-token-generator==1.1.0 botocore
    /tmp/v/bin/python tests/data/generate_vectors.py > tests/data/vectors.json

Freezing the clock: botocore's ``SigV4QueryAuth.add_auth`` takes the signing
time from ``get_current_datetime()`` (imported into ``botocore.auth`` from
``botocore.compat``; older botocore releases called
``datetime.datetime.utcnow()`` on the ``datetime`` module imported in
``botocore.auth``). Both names are patched inside ``botocore.auth`` only, and
every token is decoded afterwards to check that X-Amz-Date and the credential
scope date really carry the frozen time.

Self-checks (the script exits non-zero if any fails):
  * X-Amz-Date / credential scope / X-Amz-Expires / region / session token in
    the decoded token match the vector's inputs;
  * generating the same vector twice gives the same token;
  * the public entry points agree with ``_generate_token``: ``provide_token``
    (every vector) and ``BedrockTokenGenerator().get_token`` (43200 s vectors).

All credentials below are fake (AWS documentation example keys and
deterministically made-up session tokens).
"""

import base64
import datetime
import hashlib
import json
import sys
import types
from importlib import metadata
from unittest import mock
from urllib.parse import parse_qsl, unquote

import botocore.auth
from botocore.credentials import Credentials

from aws_bedrock_token_generator import BedrockTokenGenerator, provide_token
from aws_bedrock_token_generator.token_generator import _generate_token

REFERENCE_PACKAGE = "aws-bedrock-token-generator"
REFERENCE_VERSION = "1.1.0"
PREFIX = "bedrock-api-key-"

# --- fake credentials --------------------------------------------------------

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TEMP_AKID = "ASIAIOSFODNN7EXAMPLE"
TEMP_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
SECRET_WITH_PLUS = "wJalrXUtnFEMI+K7MDENG+bPxRfiCYEXAMPLEKEY"


def fake_session_token(seed: str, length: int) -> str:
    """A deterministic, STS-looking (base64 alphabet) fake session token.

    Built from SHA-256 output so it contains '/', '+' and ends in '=' padding
    like real tokens often do; ``length`` counts the final padding.
    """
    raw = b""
    counter = 0
    while len(base64.b64encode(raw)) < length + 8:
        raw += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    body = base64.b64encode(raw).decode().rstrip("=")
    return "IQoJb3JpZ2luX2VjEXAMPLE" + body[: length - len("IQoJb3JpZ2luX2VjEXAMPLE") - 2] + "=="


LONG_TOKEN_A = fake_session_token("bedrock-env-vector-a", 400)
LONG_TOKEN_B = fake_session_token("bedrock-env-vector-b", 428)
SHORT_TOKEN_MIXED = "AQoDYXdzEPT//////////wEXAMPLE+token/with=padding=="

for _tok in (LONG_TOKEN_A, LONG_TOKEN_B, SHORT_TOKEN_MIXED):
    assert all(c in _tok for c in "/+="), _tok

# --- signing times -----------------------------------------------------------

T_BASE = "2026-11-25T13:00:00Z"
T_SINGLE_DIGITS = "2026-01-02T03:04:05Z"  # month, day, hour, min, sec < 10
T_END_OF_DAY = "2026-12-31T23:59:59Z"  # 23:59:59 on the last day of a year
T_LEAP_DAY = "2024-02-29T00:00:00Z"  # leap day, midnight

# --- vectors: (name, access key, secret, session token, region, expires, time)

CASES = [
    ("no-token/us-east-1/43200", AKID, SECRET, None, "us-east-1", 43200, T_BASE),
    ("no-token/us-west-2/900", AKID, SECRET, None, "us-west-2", 900, T_BASE),
    ("no-token/eu-central-1/3600/single-digit-date", AKID, SECRET, None, "eu-central-1", 3600, T_SINGLE_DIGITS),
    ("no-token/ap-northeast-1/60/23:59:59", AKID, SECRET, None, "ap-northeast-1", 60, T_END_OF_DAY),
    ("no-token/us-gov-west-1/1", AKID, SECRET, None, "us-gov-west-1", 1, T_BASE),
    ("no-token/us-east-1/1/23:59:59", AKID, SECRET, None, "us-east-1", 1, T_END_OF_DAY),
    ("no-token/us-east-1/43200/leap-day", AKID, SECRET, None, "us-east-1", 43200, T_LEAP_DAY),
    ("no-token/us-west-2/60/secret-with-plus", AKID, SECRET_WITH_PLUS, None, "us-west-2", 60, T_BASE),
    ("token-mixed/us-east-1/43200", TEMP_AKID, TEMP_SECRET, SHORT_TOKEN_MIXED, "us-east-1", 43200, T_BASE),
    ("token-slash/us-west-2/900/single-digit-date", TEMP_AKID, TEMP_SECRET, "FwoGZXIvYXdz/EXAMPLE/token", "us-west-2", 900, T_SINGLE_DIGITS),
    ("token-plus/eu-central-1/3600/23:59:59", TEMP_AKID, TEMP_SECRET, "FwoGZXIvYXdz+EXAMPLE+token", "eu-central-1", 3600, T_END_OF_DAY),
    ("token-equals/ap-northeast-1/60", TEMP_AKID, TEMP_SECRET, "FwoGZXIvYXdzEXAMPLEtoken==", "ap-northeast-1", 60, T_BASE),
    ("token-long-a/us-east-1/43200", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_A, "us-east-1", 43200, T_BASE),
    ("token-long-a/us-west-2/3600/single-digit-date", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_A, "us-west-2", 3600, T_SINGLE_DIGITS),
    ("token-long-a/us-gov-west-1/43200/23:59:59", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_A, "us-gov-west-1", 43200, T_END_OF_DAY),
    ("token-long-b/eu-central-1/900/23:59:59", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_B, "eu-central-1", 900, T_END_OF_DAY),
    ("token-long-b/ap-northeast-1/43200/leap-day", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_B, "ap-northeast-1", 43200, T_LEAP_DAY),
    ("token-long-b/us-gov-west-1/1/single-digit-date", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_B, "us-gov-west-1", 1, T_SINGLE_DIGITS),
    ("token-long-b/us-west-2/60", TEMP_AKID, TEMP_SECRET, LONG_TOKEN_B, "us-west-2", 60, T_BASE),
    ("token-mixed/us-gov-west-1/3600/leap-day", TEMP_AKID, TEMP_SECRET, SHORT_TOKEN_MIXED, "us-gov-west-1", 3600, T_LEAP_DAY),
]


# --- frozen clock ------------------------------------------------------------


def parse_rfc3339_utc(text: str) -> datetime.datetime:
    """'2026-11-25T13:00:00Z' -> naive UTC datetime (what botocore uses)."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def frozen_clock(instant: datetime.datetime):
    """Patch the clock that botocore.auth reads, and nothing else."""
    aware = instant.replace(tzinfo=datetime.timezone.utc)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return instant

        @classmethod
        def now(cls, tz=None):
            return aware.astimezone(tz) if tz is not None else instant

    fake_module = types.SimpleNamespace(**vars(datetime))
    fake_module.datetime = FrozenDatetime

    patches = [mock.patch.object(botocore.auth, "datetime", fake_module)]
    if hasattr(botocore.auth, "get_current_datetime"):

        def get_current_datetime(remove_tzinfo=True):
            return instant if remove_tzinfo else aware

        patches.append(
            mock.patch.object(botocore.auth, "get_current_datetime", get_current_datetime)
        )
    return patches


def generate(creds: Credentials, region: str, expires: int, instant: datetime.datetime) -> str:
    patches = frozen_clock(instant)
    for p in patches:
        p.start()
    try:
        return _generate_token(creds, region, expires)
    finally:
        for p in reversed(patches):
            p.stop()


def generate_via_public_api(creds, region, expires, instant):
    """The same vector through provide_token / BedrockTokenGenerator."""

    class StaticProvider:
        def load(self):
            return creds

    patches = frozen_clock(instant)
    for p in patches:
        p.start()
    try:
        via_provide = provide_token(
            region=region,
            aws_credentials_provider=StaticProvider(),
            expiry=datetime.timedelta(seconds=expires),
        )
        via_class = BedrockTokenGenerator().get_token(creds, region) if expires == 43200 else None
    finally:
        for p in reversed(patches):
            p.stop()
    return via_provide, via_class


# --- checks ------------------------------------------------------------------


def check(name, token, akid, session_token, region, expires, instant):
    def fail(msg):
        raise SystemExit(f"vector {name!r}: {msg}\n  token: {token}")

    if not token.startswith(PREFIX):
        fail("missing prefix")
    url = base64.b64decode(token[len(PREFIX):], validate=True).decode("utf-8")
    host, _, query = url.partition("/?")
    if host != "bedrock.amazonaws.com":
        fail(f"unexpected host {host!r}")
    if not url.endswith("&Version=1"):
        fail("missing &Version=1 suffix")
    params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=True))
    stamp = instant.strftime("%Y%m%dT%H%M%SZ")
    if params.get("X-Amz-Date") != stamp:
        fail(f"X-Amz-Date {params.get('X-Amz-Date')!r} != frozen {stamp!r} (clock not frozen?)")
    scope = f"{akid}/{stamp[:8]}/{region}/bedrock/aws4_request"
    if params.get("X-Amz-Credential") != scope:
        fail(f"credential scope {params.get('X-Amz-Credential')!r} != {scope!r}")
    if params.get("X-Amz-Expires") != str(expires):
        fail(f"X-Amz-Expires {params.get('X-Amz-Expires')!r} != {expires}")
    if params.get("Action") != "CallWithBearerToken":
        fail("Action missing")
    if params.get("X-Amz-Security-Token") != session_token:
        fail("session token mismatch")
    if session_token is not None and unquote(
        query.split("X-Amz-Security-Token=")[1].split("&")[0]
    ) != session_token:
        fail("session token does not round-trip")


def main() -> int:
    installed = metadata.version(REFERENCE_PACKAGE)
    if installed != REFERENCE_VERSION:
        print(
            f"error: {REFERENCE_PACKAGE} {installed} installed, {REFERENCE_VERSION} required",
            file=sys.stderr,
        )
        return 1

    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate vector names"

    vectors = []
    for name, akid, secret, session_token, region, expires, when in CASES:
        instant = parse_rfc3339_utc(when)
        creds = Credentials(akid, secret, session_token)
        token = generate(creds, region, expires, instant)
        check(name, token, akid, session_token, region, expires, instant)
        if generate(creds, region, expires, instant) != token:
            raise SystemExit(f"vector {name!r}: not deterministic")
        via_provide, via_class = generate_via_public_api(creds, region, expires, instant)
        if via_provide != token:
            raise SystemExit(f"vector {name!r}: provide_token disagrees with _generate_token")
        if via_class is not None and via_class != token:
            raise SystemExit(f"vector {name!r}: BedrockTokenGenerator disagrees")
        vectors.append(
            {
                "name": name,
                "access_key_id": akid,
                "secret_access_key": secret,
                "session_token": session_token,
                "region": region,
                "expires_in": expires,
                "signing_time": when,
                "token": token,
            }
        )

    out = {"generator": f"{REFERENCE_PACKAGE} {REFERENCE_VERSION}", "vectors": vectors}
    sys.stdout.write(json.dumps(out, indent=2) + "\n")
    print(
        f"{len(vectors)} vectors from {REFERENCE_PACKAGE} {installed}, "
        f"botocore {metadata.version('botocore')}; all self-checks passed",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
