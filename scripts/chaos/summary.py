#!/usr/bin/env python3
"""One line of results for a finished chaos scenario, from the files it left in its directory."""

import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main() -> None:
    name, out, settle_s = sys.argv[1], sys.argv[2], sys.argv[3]
    parts = []
    ld = load(os.path.join(out, "load.json"))
    if ld:
        calls = ld["calls"]
        n503 = sum(v for k, v in calls.items() if k.endswith(" 503"))
        conn = sum(v for k, v in calls.items() if k.endswith(" 0") and not k.startswith("("))
        total = sum(calls.values())
        o = ld["outcomes"]
        paid = o.get("paid", 0) + o.get("canceled", 0) + o.get("cancel_pending", 0)
        parts.append(
            f"{ld['orders_attempted']} orders attempted by {ld['virtual_users']} buyers in "
            f"{ld['elapsed_s']}s ({total} calls): client saw paid {paid} (of which refunded "
            f"{o.get('canceled', 0)}), pending-202 {o.get('pending', 0)}, declined {o.get('declined', 0)}, "
            f"refused {o.get('rejected', 0)}, unpaid {o.get('unpaid', 0) + o.get('fail_redirect', 0)}, "
            f"abandoned {o.get('abandoned', 0)}; 503s {n503}, connection errors {conn}, "
            f"other 5xx {ld['server_error_count']}, non-problem errors {ld['violation_count']}"
        )
    for mode in ("fast", "immediate"):
        og = load(os.path.join(out, f"outage-{mode}.json"))
        if not og:
            continue
        parts.append(
            f"outage ({mode} stop): db down {og['db_down_s']}s, ready->503 after {og['ready_503_after_s']}s, "
            f"{og['probes_while_down']} probes while down all 503 problem+json SERVICE_UNAVAILABLE: "
            f"{'yes' if not og['bad_probes'] else 'NO'}, ready again {og['ready_after_db_start_s']}s "
            f"and API {og['api_after_db_start_s']}s after the database started"
        )
    kl = load(os.path.join(out, "kill.json"))
    if kl:
        parts.append(
            f"kill -9 with {kl['confirming_at_kill']} CONFIRMING ({kl['confirming_at_restart']} at restart), "
            f"all of them settled {kl['all_settled_after_restart_s']}s after the restart "
            f"({kl.get('their_outcome')})"
        )
    try:
        with open(os.path.join(out, "invariants.txt")) as f:
            m = re.search(r"^invariants:.*$", f.read(), re.M)
            if m:
                parts.append("database " + m.group(0).split(":", 1)[1].strip())
    except OSError:
        pass
    vf = load(os.path.join(out, "verify.json"))
    if vf:
        parts.append(f"client/database cross-check {vf['orders_checked']} orders, {vf['mismatches']} mismatches")
    parts.append(f"settled {settle_s}s after the load")
    print(f"{name}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
