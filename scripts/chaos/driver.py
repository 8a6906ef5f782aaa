#!/usr/bin/env python3
"""The reliability suite's HTTP side: seeding, a purchase load, outage probes and the client-side
cross-check. Standard library only, so it runs on a clean machine without pip.

Subcommands (each bounded in time, each talks only to the 127.0.0.1 servers it is given):

  seed     create products, coupons and buyers (coupons downloaded, points granted) through the
           admin and buyer APIs; writes a seed file
  load     the purchase story per virtual user (order or cart order -> checkout -> payment with
           coupon/points for some -> confirm on the simulated gateway with approved, declined,
           timeout and 5xx keys -> detail -> cancel for some), retrying 503s and connection
           errors with the same Idempotency-Key like a careful client; writes a result file
           (counts by call and status, client-side outcome of every order, protocol violations)
  outage   stops the database with a given command, checks that /health/ready and API calls answer
           503 problem+json SERVICE_UNAVAILABLE while it is down, starts it again and measures how
           long the service takes to answer again (no restart of the service)
  verify   compares what the clients were told with what the database says (psql): every order
           confirmed with 200 is PAID (or CANCELED when the client canceled it), every declined
           order is unpaid, every 202 was settled by the reconciler
  report   prints a one-line summary of result files

Tokens are HS256 JWTs made here from the server's JWT_SECRET (sub, iat, exp, role), exactly what
`commerce token` prints.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ADMIN_ID = 1
PROBLEM_TYPE = "application/problem+json"
ADDRESS = {
    "recipient": "홍길동",
    "phone": "010-1234-5678",
    "zipCode": "06236",
    "address1": "서울 강남구 테헤란로 1",
    "address2": "101호",
}


# --------------------------------------------------------------------------------------------
# tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(secret: str, user: int, admin: bool = False, ttl: int = 3600) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    claims = {"sub": str(user), "iat": now, "exp": now + ttl}
    if admin:
        claims["role"] = "admin"
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


# --------------------------------------------------------------------------------------------
# HTTP


class Stats:
    """Counts shared by every thread: calls by (label, status), violations, examples."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()
        self.codes: collections.Counter[str] = collections.Counter()
        self.violations: list[dict] = []
        self.violation_count = 0
        self.server_errors: list[dict] = []  # 5xx other than 503
        self.server_error_count = 0

    def record(self, label: str, status: int, code: str | None) -> None:
        with self.lock:
            self.calls[f"{label} {status}"] += 1
            if code:
                self.codes[code] += 1

    def violation(self, what: str, **detail) -> None:
        with self.lock:
            self.violation_count += 1
            if len(self.violations) < 20:
                self.violations.append({"what": what, **detail})

    def server_error(self, **detail) -> None:
        with self.lock:
            self.server_error_count += 1
            if len(self.server_errors) < 20:
                self.server_errors.append(detail)

    def as_dict(self) -> dict:
        with self.lock:
            return {
                "calls": dict(sorted(self.calls.items())),
                "codes": dict(sorted(self.codes.items())),
                "violation_count": self.violation_count,
                "violations": list(self.violations),
                "server_error_count": self.server_error_count,
                "server_errors": list(self.server_errors),
            }


class Response:
    __slots__ = ("status", "content_type", "body", "raw", "headers")

    def __init__(self, status: int, content_type: str, body, raw: bytes, headers: dict):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.raw = raw
        self.headers = headers

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict):
            code = self.body.get("code")
            return code if isinstance(code, str) else None
        return None


def check_problem(resp: Response) -> str | None:
    """Why an error answer is not a proper problem+json, or None."""
    if not resp.content_type.startswith(PROBLEM_TYPE):
        return f"content-type {resp.content_type!r}"
    body = resp.body
    if not isinstance(body, dict):
        return "body is not a JSON object"
    for field in ("type", "title", "status", "code"):
        if field not in body:
            return f"no {field!r}"
    if body.get("status") != resp.status:
        return f"status field {body.get('status')!r} != {resp.status}"
    return None


class Client:
    """One keep-alive connection per base URL, for one thread."""

    def __init__(self, bases: list[str], token: str | None, stats: Stats, timeout: float = 10.0):
        self.bases = [urllib.parse.urlsplit(b) for b in bases]
        for b in self.bases:
            if b.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise SystemExit(f"refusing to send traffic to {b.hostname}: loopback only")
        self.token = token
        self.stats = stats
        self.timeout = timeout
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def _conn(self, index: int) -> http.client.HTTPConnection:
        conn = self.conns.get(index)
        if conn is None:
            base = self.bases[index]
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=self.timeout)
            self.conns[index] = conn
        return conn

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        label: str | None = None,
        idem: str | None = None,
        token: str | None = None,
        base: int | None = None,
        auth: bool = True,
    ) -> Response:
        """One request; status 0 for a transport failure. Never raises for HTTP outcomes."""
        label = label or f"{method} {path}"
        index = random.randrange(len(self.bases)) if base is None else base
        headers = {"Accept": "application/json"}
        tok = token or self.token
        if auth and tok:
            headers["Authorization"] = f"Bearer {tok}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idem:
            headers["Idempotency-Key"] = idem
        for attempt in (0, 1):
            reused = index in self.conns
            try:
                conn = self._conn(index)
                conn.request(method, path, body=data, headers=headers)
                r = conn.getresponse()
                raw = r.read()
                resp_headers = {k.lower(): v for k, v in r.getheaders()}
                if resp_headers.get("connection", "").lower() == "close":
                    conn.close()
                    self.conns.pop(index, None)
                break
            except (OSError, http.client.HTTPException) as e:
                conn = self.conns.pop(index, None)
                if conn is not None:
                    conn.close()
                # A kept-alive connection the server closed while we were idle fails before
                # anything was answered: reconnect once (as HTTP clients do), it is not an error.
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                       ConnectionResetError))
                if attempt == 0 and reused and stale:
                    self.stats.record("(reconnect after idle keep-alive close)", 0, None)
                    continue
                self.stats.record(label, 0, None)
                return Response(0, "", None, b"", {})
        ctype = resp_headers.get("content-type", "")
        parsed = None
        if raw and "json" in ctype:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        resp = Response(r.status, ctype, parsed, raw, resp_headers)
        self.stats.record(label, r.status, resp.code if r.status >= 400 else None)
        if r.status >= 400:
            why = check_problem(resp)
            if why:
                self.stats.violation(
                    "error answer is not problem+json",
                    request=f"{method} {path}",
                    status=r.status,
                    why=why,
                    body=raw[:300].decode(errors="replace"),
                )
        if r.status >= 500 and r.status != 503:
            self.stats.server_error(
                request=f"{method} {path}",
                body=json.dumps(body)[:300] if body is not None else None,
                status=r.status,
                response=raw[:300].decode(errors="replace"),
                request_id=resp_headers.get("x-request-id"),
            )
        if r.status == 503 and resp.code != "SERVICE_UNAVAILABLE":
            self.stats.violation(
                "503 without code SERVICE_UNAVAILABLE",
                request=f"{method} {path}",
                body=raw[:300].decode(errors="replace"),
            )
        return resp


RETRYABLE_CODES = {"IDEMPOTENCY_IN_PROGRESS", "PAYMENT_IN_PROGRESS", "CONCURRENT_UPDATE"}


RETRY_FOR = 15.0  # seconds one call keeps retrying (set by --retry-for)


def call_retrying(client: Client, method: str, path: str, body=None, *, label: str,
                  idem: str | None, give_up_at: float, **kw) -> Response:
    """Retries transport errors, 5xx and transient 409s with the same key, for at most
    RETRY_FOR seconds and never past `give_up_at`."""
    delay = 0.05
    give_up_at = min(give_up_at, time.monotonic() + RETRY_FOR)
    while True:
        resp = client.call(method, path, body, label=label, idem=idem, **kw)
        transient = resp.status == 0 or resp.status >= 500 or (
            resp.status == 409 and resp.code in RETRYABLE_CODES
        )
        if not transient or time.monotonic() + delay > give_up_at:
            return resp
        time.sleep(delay + random.random() * delay)
        delay = min(delay * 2, 1.0)


# --------------------------------------------------------------------------------------------
# seed


def seed(args) -> None:
    stats = Stats()
    admin = make_token(args.secret, ADMIN_ID, admin=True)
    client = Client(args.base, admin, stats)
    give_up = time.monotonic() + 60

    def must(resp: Response, what: str) -> dict:
        if resp.status not in (200, 201):
            raise SystemExit(f"seed: {what} answered {resp.status}: {resp.raw[:300]!r}")
        return resp.body

    rnd = random.Random(args.random_seed)
    products = []
    for i in range(args.products):
        price = rnd.randrange(10, 50) * 1000
        body = {"name": f"chaos product {i}", "price": price,
                "sellingPrice": price - rnd.choice([0, 1000]), "stock": args.stock}
        p = must(call_retrying(client, "POST", "/admin/v1/products", body, label="seed product",
                               idem=None, give_up_at=give_up), "create product")
        products.append({"id": p["id"], "stock": p["stock"], "price": p["sellingPrice"]})
    hot = must(call_retrying(client, "POST", "/admin/v1/products",
                             {"name": "chaos hot product", "price": 20000, "stock": args.hot_stock},
                             label="seed product", idem=None, give_up_at=give_up), "hot product")
    hot = {"id": hot["id"], "stock": hot["stock"], "price": hot["sellingPrice"]}
    coupons = []
    for body in (
        {"name": "chaos 3,000 off", "kind": "FIXED", "amount": 3000, "minOrderAmount": 10000,
         "validUntil": "2099-12-31T23:59:59Z"},
        {"name": "chaos 10% off", "kind": "RATE", "percent": 10, "maxDiscount": 4000,
         "validUntil": "2099-12-31T23:59:59Z"},
        {"name": "chaos hot 1,000 off", "kind": "FIXED", "amount": 1000,
         "validUntil": "2099-12-31T23:59:59Z", "productIds": [hot["id"]]},
    ):
        c = must(call_retrying(client, "POST", "/admin/v1/coupons", body, label="seed coupon",
                               idem=None, give_up_at=give_up), "create coupon")
        coupons.append(c["id"])
    users = []
    for n in range(args.users):
        uid = args.first_user + n
        must(call_retrying(client, "POST", f"/admin/v1/users/{uid}/points",
                           {"amount": args.points, "reason": "chaos seed"}, label="seed points",
                           idem=None, give_up_at=give_up), "grant points")
        buyer = make_token(args.secret, uid)
        for cid in coupons:
            must(call_retrying(client, "POST", f"/v1/coupons/{cid}/download", None,
                               label="seed download", idem=None, token=buyer,
                               give_up_at=give_up), "download coupon")
        users.append(uid)
    out = {"products": products, "hot": hot, "coupons": coupons, "users": users}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"seeded {len(products)} products + 1 hot (stock {args.hot_stock}), "
          f"{len(coupons)} coupons, {len(users)} buyers")


# --------------------------------------------------------------------------------------------
# load


class Orders:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[dict] = []

    def add(self, row: dict) -> None:
        with self.lock:
            self.rows.append(row)


def choose_key(rnd: random.Random, args) -> tuple[str, str]:
    x = rnd.random()
    if x < args.decline:
        kind = "decline"
    elif x < args.decline + args.timeout:
        kind = "timeout"
    elif x < args.decline + args.timeout + args.error:
        kind = "error"
    else:
        kind = "ok"
    return kind, f"{kind}-{uuid.uuid4().hex[:16]}"


def purchase(client: Client, rnd: random.Random, args, seed_data: dict, user: int,
             orders: Orders, deadline: float) -> None:
    """One purchase story; records the order's client-side outcome."""
    give_up = deadline + args.grace
    row: dict = {"user": user}
    # 1. the order: one product (sometimes the hot one), or a cart order of two lines
    if rnd.random() < args.cart:
        lines = rnd.sample(seed_data["products"], 2)
        ids = []
        for p in lines:
            r = call_retrying(client, "POST", "/v1/cart/items",
                              {"productId": p["id"], "quantity": rnd.randint(1, 2)},
                              label="POST /v1/cart/items", idem=str(uuid.uuid4()),
                              give_up_at=give_up)
            if r.status != 201:
                row["outcome"] = f"abandoned:cart:{r.status}"
                orders.add(row)
                return
            ids.append(r.body["id"])
        row["kind"] = "cart"
        r = call_retrying(client, "POST", "/v1/cart-orders", {"cartItemIds": ids},
                          label="POST /v1/cart-orders", idem=str(uuid.uuid4()), give_up_at=give_up)
        row["cart_item_ids"] = ids
    else:
        product = seed_data["hot"] if rnd.random() < args.hot else rnd.choice(seed_data["products"])
        row["kind"] = "single"
        r = call_retrying(client, "POST", "/v1/orders",
                          {"productId": product["id"], "quantity": rnd.randint(1, 3)},
                          label="POST /v1/orders", idem=str(uuid.uuid4()), give_up_at=give_up)
    if r.status != 201:
        row["outcome"] = f"abandoned:order:{r.status}:{r.code}"
        orders.add(row)
        return
    key = r.body["orderKey"]
    row["orderKey"] = key
    try:
        _pay(client, rnd, args, key, row, give_up)
    finally:
        if row.get("kind") == "cart" and row.get("outcome") not in ("paid", "canceled", "cancel_pending"):
            # leave the cart as it was: drop the lines of an order that was not paid
            for cid in row.get("cart_item_ids", []):
                client.call("DELETE", f"/v1/cart/items/{cid}", label="DELETE /v1/cart/items/{id}")
        orders.add(row)


def _pay(client: Client, rnd: random.Random, args, key: str, row: dict, give_up: float) -> None:
    if rnd.random() < args.unpaid:
        row["outcome"] = "unpaid"
        return
    r = call_retrying(client, "GET", f"/v1/orders/{key}/checkout", label="GET checkout",
                      idem=None, give_up_at=give_up)
    if r.status != 200:
        row["outcome"] = f"abandoned:checkout:{r.status}:{r.code}"
        return
    checkout = r.body
    if args.slow and rnd.random() < args.slow:
        # a buyer who takes their time: the order may expire meanwhile
        time.sleep(rnd.random() * args.slow_max)
    for attempt in range(2):
        body = {"orderKey": key, "shippingAddress": ADDRESS}
        if checkout.get("usableCoupons") and rnd.random() < args.coupon:
            body["ownedCouponId"] = rnd.choice(checkout["usableCoupons"])["ownedCouponId"]
        if checkout.get("pointBalance", 0) > 0 and rnd.random() < args.points:
            body["usePoint"] = min(checkout["pointBalance"], rnd.choice([100, 500, 1000, 2000]))
        r = call_retrying(client, "POST", "/v1/payments", body, label="POST /v1/payments",
                          idem=str(uuid.uuid4()), give_up_at=give_up)
        if r.status == 400 and r.code == "POINTS_EXCEED_PAYABLE":
            body.pop("usePoint", None)
            r = call_retrying(client, "POST", "/v1/payments", body, label="POST /v1/payments",
                              idem=str(uuid.uuid4()), give_up_at=give_up)
        if r.status != 201:
            row["outcome"] = f"rejected:payment:{r.status}:{r.code}"
            return
        amount = r.body["amount"]
        row["amount"] = amount
        if rnd.random() < args.fail_redirect:
            r = call_retrying(client, "POST", "/v1/payments/fail",
                              {"orderKey": key, "code": "PAY_PROCESS_CANCELED",
                               "message": "사용자에 의해 결제가 취소되었습니다"},
                              label="POST /v1/payments/fail", idem=str(uuid.uuid4()),
                              give_up_at=give_up)
            row["outcome"] = "fail_redirect" if r.status == 200 else f"abandoned:fail:{r.status}"
            return
        kind, pkey = choose_key(rnd, args)
        if attempt > 0:
            kind, pkey = "ok", f"ok-{uuid.uuid4().hex[:16]}"
        row["payment_key_kind"] = kind
        r = call_retrying(client, "POST", "/v1/payments/confirm",
                          {"orderKey": key, "paymentKey": pkey, "amount": amount},
                          label="POST /v1/payments/confirm", idem=str(uuid.uuid4()),
                          give_up_at=give_up)
        if r.status == 200:
            row["outcome"] = "paid"
            break
        if r.status == 202:
            row["outcome"] = "pending"
            return
        if r.status == 402:
            row["outcome"] = "declined"
            if rnd.random() < 0.5:
                continue  # the buyer tries again with another card
            return
        if r.status == 0 or r.status >= 500 or r.code in RETRYABLE_CODES:
            row["outcome"] = f"abandoned:confirm:{r.status}:{r.code}"
            return
        row["outcome"] = f"rejected:confirm:{r.status}:{r.code}"
        return
    if row.get("outcome") != "paid":
        return
    client.call("GET", f"/v1/orders/{key}", label="GET detail")
    if rnd.random() < args.cancel:
        r = call_retrying(client, "POST", f"/v1/orders/{key}/cancel", {"reason": "chaos"},
                          label="POST cancel", idem=str(uuid.uuid4()), give_up_at=give_up)
        if r.status == 200:
            row["outcome"] = "canceled"
        elif r.status == 202:
            row["outcome"] = "cancel_pending"
        elif r.status == 0 or r.status >= 500 or r.code in RETRYABLE_CODES:
            # no definite answer (e.g. a key left in progress by an outage): either outcome is fine
            row["cancel"] = f"unknown:{r.status}:{r.code}"
        else:
            row["cancel"] = f"refused:{r.status}:{r.code}"


def load(args) -> None:
    global RETRY_FOR
    RETRY_FOR = args.retry_for
    with open(args.seed) as f:
        seed_data = json.load(f)
    stats = Stats()
    orders = Orders()
    users = seed_data["users"][: args.concurrency] if args.concurrency else seed_data["users"]
    started = time.monotonic()
    deadline = started + args.duration
    stop_file = args.stop_file

    def worker(n: int, user: int) -> None:
        rnd = random.Random(args.random_seed * 1000 + n)
        client = Client(args.base, make_token(args.secret, user), stats)
        try:
            while time.monotonic() < deadline:
                if stop_file and _exists(stop_file):
                    break
                if args.max_orders and len(orders.rows) >= args.max_orders:
                    break
                purchase(client, rnd, args, seed_data, user, orders, deadline)
        except Exception as e:  # a driver bug must not hide: record it
            stats.violation("driver exception", error=repr(e))
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n, u), daemon=True) for n, u in enumerate(users)]
    for t in threads:
        t.start()
    hard_stop = deadline + args.grace + 15
    for t in threads:
        t.join(max(0.0, hard_stop - time.monotonic()))
    elapsed = time.monotonic() - started
    stuck = sum(t.is_alive() for t in threads)
    outcomes = collections.Counter(
        (row.get("outcome") or "none").split(":")[0] for row in orders.rows
    )
    detailed = collections.Counter(row.get("outcome") or "none" for row in orders.rows)
    result = {
        "elapsed_s": round(elapsed, 1),
        "virtual_users": len(users),
        "orders_attempted": len(orders.rows),
        "orders_with_key": sum(1 for row in orders.rows if "orderKey" in row),
        "outcomes": dict(sorted(outcomes.items())),
        "outcomes_detailed": dict(sorted(detailed.items())),
        "paid_per_s": round((outcomes["paid"] + outcomes["canceled"] + outcomes["cancel_pending"])
                            / elapsed, 1) if elapsed else 0,
        "threads_stuck": stuck,
        **stats.as_dict(),
        "orders": orders.rows,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"load: {len(orders.rows)} orders in {elapsed:.1f}s, outcomes {dict(outcomes)}, "
          f"503s {sum(v for k, v in stats.calls.items() if k.endswith(' 503'))}, "
          f"transport errors {sum(v for k, v in stats.calls.items() if k.endswith(' 0') and not k.startswith('('))}, "
          f"other 5xx {stats.server_error_count}, violations {stats.violation_count}")
    if stuck:
        print(f"load: {stuck} virtual users did not finish in time", file=sys.stderr)
        sys.exit(1)


def _exists(path: str) -> bool:
    try:
        open(path).close()
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# outage


def outage(args) -> None:
    """Stops the database, probes the service while it is down, starts it, measures recovery."""
    stats = Stats()
    buyer = make_token(args.secret, args.user)
    client = Client(args.base, buyer, stats, timeout=8.0)
    probes = collections.Counter()
    bad: list[dict] = []

    def probe(method: str, path: str, body=None, auth: bool = True) -> Response:
        r = client.call(method, path, body, label=f"outage {method} {path.split('?')[0]}",
                        base=0, auth=auth)
        ok = (r.status == 503 and r.content_type.startswith(PROBLEM_TYPE)
              and r.code == "SERVICE_UNAVAILABLE")
        probes[f"{method} {path.split('?')[0]} {r.status} {r.code}"] += 1
        if not ok and len(bad) < 20:
            bad.append({"request": f"{method} {path}", "status": r.status,
                        "content_type": r.content_type, "body": r.raw[:200].decode(errors="replace")})
        return r

    result: dict = {}
    t0 = time.monotonic()
    print(f"outage: stopping the database ({'-m immediate' if '-m immediate' in args.stop_cmd else 'pg_ctl stop'})")
    subprocess.run(args.stop_cmd, shell=True, check=True, timeout=60, stdout=subprocess.DEVNULL)
    t_stopped = time.monotonic()
    result["stop_took_s"] = round(t_stopped - t0, 2)
    # the first 503 from the readiness probe
    first_503 = None
    while time.monotonic() - t_stopped < 20:
        r = client.call("GET", "/health/ready", label="outage ready", base=0, auth=False)
        if r.status == 503:
            first_503 = time.monotonic()
            break
        time.sleep(0.05)
    result["ready_503_after_s"] = round(first_503 - t_stopped, 2) if first_503 else None
    # keep it down for down_secs, probing readiness and API calls all along
    down_until = t_stopped + args.down_secs
    rounds = 0
    while time.monotonic() < down_until or rounds < 2:
        rounds += 1
        probe("GET", "/health/ready", auth=False)
        probe("GET", "/v1/products?limit=5")
        probe("GET", "/v1/orders?status=ALL&limit=5")
        probe("POST", "/v1/orders", {"productId": args.product, "quantity": 1})
        probe("POST", "/v1/cart/items", {"productId": args.product, "quantity": 1})
        time.sleep(0.1)
    live = client.call("GET", "/health/live", label="outage live", base=0, auth=False)
    result["live_while_down"] = live.status
    print("outage: starting the database")
    t_start = time.monotonic()
    subprocess.run(args.start_cmd, shell=True, check=True, timeout=120, stdout=subprocess.DEVNULL)
    t_started = time.monotonic()
    result["db_down_s"] = round(t_started - t_stopped, 2)
    # recovery: readiness 200, then a real API call 2xx
    ready_at = api_at = None
    while time.monotonic() - t_started < args.recover_timeout:
        if ready_at is None:
            r = client.call("GET", "/health/ready", label="recover ready", base=0, auth=False)
            if r.status == 200:
                ready_at = time.monotonic()
        if ready_at is not None:
            r = client.call("GET", "/v1/orders?status=ALL&limit=5", label="recover api", base=0)
            if r.status == 200:
                api_at = time.monotonic()
                break
        time.sleep(0.05)
    result.update({
        "db_start_took_s": round(t_started - t_start, 2),
        "ready_after_db_start_s": round(ready_at - t_started, 2) if ready_at else None,
        "api_after_db_start_s": round(api_at - t_started, 2) if api_at else None,
        "probes_while_down": sum(probes.values()),
        "probes_503_problem": sum(probes.values()) - len(bad) if len(bad) < 20 else None,
        "probe_answers": dict(sorted(probes.items())),
        "bad_probes": bad,
        **{k: v for k, v in stats.as_dict().items() if k in ("violation_count", "violations")},
    })
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    ok = (first_503 is not None and not bad and ready_at is not None and api_at is not None
          and stats.violation_count == 0)
    print(f"outage: ready 503 after {result['ready_503_after_s']}s, {result['probes_while_down']} "
          f"probes while down ({len(bad)} not 503 problem+json), db down {result['db_down_s']}s, "
          f"ready again {result['ready_after_db_start_s']}s and API {result['api_after_db_start_s']}s "
          f"after the database started")
    if not ok:
        print(f"outage: FAILED: {json.dumps(bad[:5])}", file=sys.stderr)
        sys.exit(1)


# --------------------------------------------------------------------------------------------
# verify


def psql_rows(dsn: str, sql: str) -> list[list[str]]:
    out = subprocess.run([os.environ.get("PSQL", "psql"), dsn, "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def verify(args) -> None:
    """What each client was told against what the database holds."""
    rows = []
    for path in args.results:
        with open(path) as f:
            rows.extend(json.load(f)["orders"])
    db = {
        key: (status, pay)
        for key, status, pay in psql_rows(
            args.dsn,
            "SELECT o.order_key, o.status, coalesce((SELECT string_agg(p.status, ',' ORDER BY p.id) "
            "FROM payments p WHERE p.order_id = o.id), '') FROM orders o",
        )
    }
    problems = []
    checked = collections.Counter()

    def bad(row, why):
        if len(problems) < 30:
            problems.append({"orderKey": row.get("orderKey"), "client": row.get("outcome"),
                             "db": db.get(row.get("orderKey")), "why": why})

    for row in rows:
        key = row.get("orderKey")
        if not key:
            continue
        outcome = row.get("outcome", "")
        if key not in db:
            bad(row, "the client got an order key the database does not have")
            continue
        status, payments = db[key]
        last = payments.split(",")[-1] if payments else ""
        checked[outcome.split(":")[0]] += 1
        if outcome == "paid":
            if status != "PAID" or last != "APPROVED":
                # a cancel whose answer the client never got may have gone through
                if not (row.get("cancel", "").startswith("unknown") and status == "CANCELED"
                        and last == "CANCELED"):
                    bad(row, "confirmed with 200 but not PAID/APPROVED")
        elif outcome == "canceled":
            if status != "CANCELED" or last != "CANCELED":
                bad(row, "canceled with 200 but not CANCELED")
        elif outcome == "cancel_pending":
            if status not in ("CANCELED", "PAID") or last not in ("CANCELED", "APPROVED"):
                bad(row, "cancel pending but neither refunded nor back to APPROVED")
        elif outcome == "pending":
            # the simulated gateway approves timeout-/error- keys: the reconciler must finish them
            if status != "PAID" or last != "APPROVED":
                bad(row, "confirm answered 202 but the reconciler did not settle it as PAID")
        elif outcome in ("declined", "fail_redirect") or outcome.startswith("rejected"):
            if status == "PAID" or last in ("APPROVED", "CONFIRMING", "CANCELING"):
                bad(row, "the client was refused but the order is paid or pending")
        elif outcome == "unpaid":
            if status == "PAID" or payments:
                bad(row, "the client never paid but the order has payments")
        # abandoned: either outcome is fine; the invariants check consistency
    result = {"orders_checked": sum(checked.values()), "by_client_outcome": dict(checked),
              "mismatches": len(problems), "examples": problems}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"verify: {sum(checked.values())} orders checked against the database "
          f"({dict(checked)}), {len(problems)} mismatches")
    if problems:
        for p in problems[:10]:
            print(f"verify: MISMATCH {json.dumps(p, ensure_ascii=False)}", file=sys.stderr)
        sys.exit(1)


# --------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--base", action="append", required=True,
                       help="server base URL (repeat for several instances)")
        p.add_argument("--secret", required=True, help="the servers' JWT_SECRET")
        p.add_argument("--random-seed", type=int, default=7)

    p = sub.add_parser("seed")
    common(p)
    p.add_argument("--products", type=int, default=8)
    p.add_argument("--stock", type=int, default=100000)
    p.add_argument("--hot-stock", type=int, default=40)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--first-user", type=int, default=1001)
    p.add_argument("--points", type=int, default=50000)
    p.add_argument("--out", required=True)
    p.set_defaults(func=seed)

    p = sub.add_parser("load")
    common(p)
    p.add_argument("--seed", required=True, help="the seed file")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--grace", type=float, default=20,
                   help="how long an order in progress at the deadline may keep retrying")
    p.add_argument("--concurrency", type=int, default=8, help="virtual users (one buyer each)")
    p.add_argument("--max-orders", type=int, default=0)
    p.add_argument("--stop-file")
    p.add_argument("--cart", type=float, default=0.15, help="share of cart orders")
    p.add_argument("--hot", type=float, default=0.25, help="share of single orders for the hot product")
    p.add_argument("--unpaid", type=float, default=0.05, help="share of orders left unpaid")
    p.add_argument("--coupon", type=float, default=0.3)
    p.add_argument("--points", type=float, default=0.3)
    p.add_argument("--fail-redirect", type=float, default=0.03)
    p.add_argument("--decline", type=float, default=0.08)
    p.add_argument("--timeout", type=float, default=0.05)
    p.add_argument("--error", type=float, default=0.05)
    p.add_argument("--cancel", type=float, default=0.1, help="share of paid orders canceled")
    p.add_argument("--slow", type=float, default=0.0, help="share of buyers pausing before paying")
    p.add_argument("--slow-max", type=float, default=0.0, help="the longest such pause, seconds")
    p.add_argument("--retry-for", type=float, default=15.0,
                   help="how long one call keeps retrying 503s and connection errors")
    p.add_argument("--out", required=True)
    p.set_defaults(func=load)

    p = sub.add_parser("outage")
    common(p)
    p.add_argument("--stop-cmd", required=True)
    p.add_argument("--start-cmd", required=True)
    p.add_argument("--down-secs", type=float, default=3)
    p.add_argument("--recover-timeout", type=float, default=30)
    p.add_argument("--user", type=int, default=999)
    p.add_argument("--product", type=int, default=1)
    p.add_argument("--out", required=True)
    p.set_defaults(func=outage)

    p = sub.add_parser("verify")
    p.add_argument("--dsn", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("results", nargs="+")
    p.set_defaults(func=verify)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
