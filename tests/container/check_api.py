#!/usr/bin/python3
"""Talks to the service compose started, over HTTP (stdlib only).
    check_api.py URL seed     register a user, log in as the configured admin, create an event,
                              buy a ticket; prints the ids as JSON
    check_api.py URL verify IDS_JSON   after a restart: the event and purchase are still there,
                              the admin and the user can still log in"""
import json
import sys
import time
import urllib.error
import urllib.request


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def expect(status, wanted, what, body):
    if status != wanted:
        sys.exit(f"{what}: expected {wanted}, got {status}: {body}")


def login(base, email, password):
    status, body = call(base, "POST", "/api/auth/login", {"email": email, "password": password})
    expect(status, 200, f"login {email}", body)
    return body["accessToken"]


def main():
    base, mode = sys.argv[1], sys.argv[2]
    admin_email, admin_password = sys.argv[3], sys.argv[4]
    user = {"email": "container-user@example.com", "password": "container-pass-1", "fullName": "Container User"}
    if mode == "seed":
        status, body = call(base, "POST", "/api/auth/register", user)
        expect(status, 201, "register", body)
        admin = login(base, admin_email, admin_password)
        event = {"name": "Container Concert", "venue": "Volume Hall", "capacity": 10,
                 "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400 * 30))}
        status, created = call(base, "POST", "/api/events", event, admin)
        expect(status, 201, "create event", created)
        token = login(base, user["email"], user["password"])
        status, purchase = call(base, "POST", f"/api/events/{created['id']}/purchases", {"quantity": 2}, token)
        expect(status, 201, "buy", purchase)
        print(json.dumps({"event": created["id"], "purchase": purchase["id"]}))
        return
    ids = json.loads(sys.argv[5])
    login(base, admin_email, admin_password)
    token = login(base, user["email"], user["password"])
    status, event = call(base, "GET", f"/api/events/{ids['event']}")
    expect(status, 200, "event after restart", event)
    if event["ticketsSold"] != 2 or event["name"] != "Container Concert":
        sys.exit(f"event changed across the restart: {event}")
    status, purchase = call(base, "GET", f"/api/purchases/{ids['purchase']}", token=token)
    expect(status, 200, "purchase after restart", purchase)
    print("data survived the restart:", json.dumps(purchase))


if __name__ == "__main__":
    main()
