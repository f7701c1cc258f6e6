"""The smoke part of the cluster test: checks any two-node kefu from outside,
through its web nodes' base URLs and a staff (agent) API token.

    python tests/cluster/smoke.py --web http://127.0.0.1:8001 --web http://127.0.0.1:8002 \\
        --token "$AGENT_TOKEN" [--smtp-sink 127.0.0.1:2526]

It checks, and stops at the first failure (exit status 1, naming the step):

1. ``/healthz`` and ``/readyz`` answer 200 on every node;
2. a complaint filed through the first node is shown by the second node's
   tracking page and public API (one ``SECRET_KEY`` for all nodes);
3. a file attached through the first node downloads, unchanged, from the
   second (one shared attachment store);
4. with ``--smtp-sink HOST:PORT`` it listens there itself as the SMTP server
   (point the deployment's ``SMTP_HOST``/``SMTP_PORT`` at it) and waits for
   the complaint's "received" mail, which the workers send.

It leaves a ticket (subject "kefu smoke test ...") with a small text
attachment behind. It needs ``requests`` (and ``aiosmtpd`` for the sink).
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid

import requests


class SmokeFailure(AssertionError):
    """A smoke step failed; the message names the step and what was seen."""


def _check(condition, step: str, response=None) -> None:
    if not condition:
        seen = f": {response.status_code} {response.text[:300]!r}" if response is not None else ""
        raise SmokeFailure(f"{step}{seen}")


def run_smoke(webs: list[str], token: str, mail=None, timeout: float = 60.0, say=print) -> dict:
    """Run the smoke checks against ``webs`` (two or more base URLs) with the
    agent API ``token``. ``mail``: a function ``address -> [messages]``
    listing what the SMTP server got for an address, or None to skip the mail
    check. Returns what was filed; raises ``SmokeFailure`` at the first failure."""
    if len(webs) < 2:
        raise SmokeFailure("give two web nodes (--web URL twice)")
    first, second = webs[0].rstrip("/"), webs[1].rstrip("/")
    staff = {"Authorization": f"Bearer {token}"}
    http = requests.Session()

    for base in webs:
        base = base.rstrip("/")
        for path in ("/healthz", "/readyz"):
            response = http.get(base + path, timeout=10)
            _check(response.status_code == 200 and response.json().get("status") == "ok",
                   f"GET {base}{path} should be 200 {{\"status\": \"ok\"}}", response)
        say(f"ok  {base}: /healthz and /readyz")

    tag = uuid.uuid4().hex[:10]
    address = f"smoke-{tag}@example.test"
    response = http.post(f"{first}/api/v1/public/tickets", timeout=30, json={
        "name": "Smoke Test", "email": address, "language": "en", "kind": "complaint",
        "subject": f"kefu smoke test {tag}", "description": "Filed by tests/cluster/smoke.py."})
    _check(response.status_code == 201, f"POST {first}/api/v1/public/tickets should be 201", response)
    number, tracking = response.json()["number"], response.json()["token"]
    say(f"ok  complaint {number} filed through {first}")

    response = http.get(f"{second}/track/{tracking}", timeout=30)
    _check(response.status_code == 200 and number in response.text,
           f"the tracking page of {number} on {second} (one SECRET_KEY on every node?)", response)
    response = http.get(f"{second}/api/v1/public/tickets/{tracking}", timeout=30)
    _check(response.status_code == 200 and response.json().get("number") == number,
           f"GET {second}/api/v1/public/tickets/<token> should show {number}", response)
    say(f"ok  {number} tracked through {second}")

    content = f"smoke attachment {tag}\n".encode()
    response = http.post(f"{first}/api/v1/tickets/{number}/attachments", headers=staff, timeout=30,
                         files={"file": (f"smoke-{tag}.txt", content, "text/plain")})
    _check(response.status_code == 201, f"uploading an attachment to {number} through {first}", response)
    attachment = response.json()["id"]
    response = http.get(f"{second}/api/v1/tickets/{number}/attachments/{attachment}", headers=staff, timeout=30)
    _check(response.status_code == 200 and response.content == content,
           f"downloading attachment {attachment} of {number} through {second} (one shared store?)", response)
    say(f"ok  attachment {attachment} uploaded through {first}, downloaded through {second}")

    if mail is not None:
        deadline = time.monotonic() + timeout
        while not any(number in (m["Subject"] or "") for m in mail(address)):
            if time.monotonic() > deadline:
                raise SmokeFailure(f"no mail about {number} reached {address} within {timeout:.0f} s "
                                   "(workers running? SMTP_HOST/SMTP_PORT pointing at the sink?)")
            time.sleep(0.2)
        say(f"ok  the 'received' mail for {number} arrived")
    return {"number": number, "token": tracking, "address": address, "attachment": attachment}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web", action="append", required=True, help="a web node's base URL (twice or more)")
    parser.add_argument("--token", required=True, help="an agent's API token")
    parser.add_argument("--smtp-sink", metavar="HOST:PORT",
                        help="listen here as the SMTP server and wait for the complaint's mail")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the mail")
    args = parser.parse_args(argv)
    sink = None
    if args.smtp_sink:
        from clusterparts import SmtpSink

        host, _, port = args.smtp_sink.rpartition(":")
        sink = SmtpSink(host or "127.0.0.1", int(port)).start()
    try:
        run_smoke(args.web, args.token, mail=sink.to if sink else None, timeout=args.timeout)
    except (SmokeFailure, requests.RequestException) as exc:
        print(f"FAILED  {exc}", file=sys.stderr)
        return 1
    finally:
        if sink:
            sink.stop()
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
