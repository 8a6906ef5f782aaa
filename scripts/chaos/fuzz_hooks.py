"""Schemathesis hooks for scripts/fuzz.sh.

- `problem_json_errors`: every error answer (4xx and 5xx) is `application/problem+json` with
  `type`, `title`, `status` (equal to the HTTP status) and an upper-snake `code` (SPEC §3).
- `flatmap_path_parameters`: half of the generated `orderKey`/`id` path values are swapped for keys
  and ids that exist (FUZZ_ORDER_KEYS, FUZZ_PRODUCT_IDS, FUZZ_CART_ITEM_IDS, FUZZ_COUPON_IDS, set
  by fuzz.sh after seeding), so the fuzzer reaches the handlers' logic and not only the 404s.
- `flatmap_body`: one body in eight gets one of its strings replaced by a hostile one (NUL and other
  control characters, a lone surrogate, bidi overrides, SQL, 10,000 characters), which random
  generation reaches only by luck.
"""

from __future__ import annotations

import copy
import json
import os
import re

import schemathesis
from hypothesis import strategies as st

CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
HOSTILE = [
    "\u0000", "a\u0000b", "\u0001\u001f\u007f", "\ud800", "\u202e\u2066", "'; DROP TABLE orders; --",
    "%00%0d%0a", "\U0001F642" * 3, "x" * 10_000, " ", "\t\n",
]


def _ids(name: str) -> list:
    return [v for v in os.environ.get(name, "").split(",") if v]


ORDER_KEYS = _ids("FUZZ_ORDER_KEYS")
PRODUCT_IDS = [int(v) for v in _ids("FUZZ_PRODUCT_IDS")]
CART_ITEM_IDS = [int(v) for v in _ids("FUZZ_CART_ITEM_IDS")]
COUPON_IDS = [int(v) for v in _ids("FUZZ_COUPON_IDS")]


@schemathesis.check
def problem_json_errors(ctx, response, case):
    """Every 4xx/5xx answer is problem+json with type, title, status and code."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered with Content-Type {content_type!r}, "
            f"not application/problem+json: {response.content[:200]!r}"
        )
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"problem+json body is not JSON: {response.content[:200]!r}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"problem+json body is not an object: {body!r}")
    missing = [f for f in ("type", "title", "status", "code") if f not in body]
    if missing:
        raise AssertionError(f"problem+json body lacks {missing}: {body!r}")
    if body["status"] != response.status_code:
        raise AssertionError(f"problem status {body['status']!r} != HTTP {response.status_code}")
    if not isinstance(body["code"], str) or not CODE.match(body["code"]):
        raise AssertionError(f"problem code {body['code']!r} is not UPPER_SNAKE")
    return None


def _string_slots(value, slots):
    """(container, key) of every string inside a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                slots.append((value, key))
            else:
                _string_slots(item, slots)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                slots.append((value, index))
            else:
                _string_slots(item, slots)
    return slots


# Hooks draw their choices from Hypothesis strategies (flatmap), never from `random`: Hypothesis
# fixes the global random state per example, and its own draws keep runs reproducible by --seed.


@schemathesis.hook
def flatmap_body(ctx, body):
    count = len(_string_slots(body, []))
    if not count:
        return st.just(body)

    def hostile(choice):
        index, text = choice
        mutated = copy.deepcopy(body)
        container, key = _string_slots(mutated, [])[index]
        container[key] = text
        return mutated

    mutation = st.tuples(st.integers(0, count - 1), st.sampled_from(HOSTILE)).map(hostile)
    return st.integers(0, 7).flatmap(lambda n: mutation if n == 0 else st.just(body))


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    path = ctx.operation.path if ctx.operation is not None else ""
    choices = {}
    if "orderKey" in path_parameters and ORDER_KEYS:
        choices["orderKey"] = ORDER_KEYS
    if "id" in path_parameters:
        if path.startswith("/v1/cart/items"):
            ids = CART_ITEM_IDS
        elif path.startswith("/v1/coupons"):
            ids = COUPON_IDS
        else:
            ids = PRODUCT_IDS
        if ids:
            choices["id"] = ids
    if not choices:
        return st.just(path_parameters)
    existing = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in choices.items()}).map(
        lambda picked: {**path_parameters, **picked}
    )
    return st.booleans().flatmap(lambda use: existing if use else st.just(path_parameters))
