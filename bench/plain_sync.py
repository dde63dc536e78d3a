#!/usr/bin/env python3
"""The plain provisioning script of docs/performance.md, for comparison.

What a team would write by hand to create JumpCloud accounts for Bob's
employees: read Bob once, then for each employee, one at a time, look the
person up in JumpCloud by email, check that the username is free, and create
the user. Three round trips per new user, no concurrency, no state, no plan,
no journal, Python's standard library only (a new connection per request, as
urllib does).

    BOB_SERVICE_USER_ID=... BOB_SERVICE_USER_TOKEN=... JUMPCLOUD_API_KEY=... \
        python3 bench/plain_sync.py BOB_URL JUMPCLOUD_URL

BOB_URL: Bob's API root (.../v1: its /people/search is read); JUMPCLOUD_URL: the
JumpCloud API root (.../api). Prints the number of users created.
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def call(method, url, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main():
    bob_url, jumpcloud_url = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
    credentials = os.environ["BOB_SERVICE_USER_ID"] + ":" + os.environ["BOB_SERVICE_USER_TOKEN"]
    bob = {
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    jumpcloud = {
        "x-api-key": os.environ["JUMPCLOUD_API_KEY"],
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    fields = ["root.id", "root.firstName", "root.surname", "root.email",
              "work.title", "work.department", "work.employeeIdInCompany"]
    people = call("POST", bob_url + "/people/search", bob,
                  {"fields": fields, "showInactive": False})["employees"]

    def find(field, value):
        query = urllib.parse.quote(field + ":$eq:" + value)
        return call("GET", jumpcloud_url + "/systemusers?filter=" + query, jumpcloud)["results"]

    created = 0
    for person in people:
        work = person.get("work", {})
        email = person["email"]
        if find("email", email):
            continue  # already there
        username = email.split("@")[0].lower()
        if find("username", username):
            username += "." + str(person["id"])[-4:]  # taken: make it unique
        try:
            call("POST", jumpcloud_url + "/systemusers", jumpcloud, {
                "username": username,
                "email": email,
                "firstname": person.get("firstName", ""),
                "lastname": person.get("surname", ""),
                "jobTitle": work.get("title", ""),
                "department": work.get("department", ""),
                "employeeIdentifier": str(work.get("employeeIdInCompany", "")),
            })
            created += 1
        except urllib.error.HTTPError as e:
            print(email + ": " + str(e.code) + " " + e.read().decode(errors="replace"),
                  file=sys.stderr)
    print(created)


if __name__ == "__main__":
    main()
