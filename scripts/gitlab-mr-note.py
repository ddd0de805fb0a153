#!/usr/bin/env python3
"""gitlab-mr-note.py: posts a markdown file as a note on the current GitLab
merge request, or updates the note it posted before (found by a marker), so
a merge request carries one shadoweval report however many times CI runs.
Used by ci/shadoweval.gitlab-ci.yml.

Usage: gitlab-mr-note.py FILE
Reads CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID (set by GitLab)
and SHADOWEVAL_GITLAB_TOKEN (a token with the api scope; never printed).
Exit 0 posted or updated, 2 bad usage or a failed request.
"""
import json
import os
import sys
import urllib.request

MARKER = "<!-- shadoweval check -->"


def call(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("PRIVATE-TOKEN", token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    env = os.environ
    try:
        api, project, mr = env["CI_API_V4_URL"], env["CI_PROJECT_ID"], env["CI_MERGE_REQUEST_IID"]
        token = env["SHADOWEVAL_GITLAB_TOKEN"]
    except KeyError as e:
        print(f"gitlab-mr-note: {e.args[0]} is not set", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        body = MARKER + "\n" + f.read()
    notes_url = f"{api}/projects/{project}/merge_requests/{mr}/notes"
    try:
        page = 1
        mine = None
        while mine is None:
            notes = call("GET", f"{notes_url}?per_page=100&page={page}", token)
            if not notes:
                break
            mine = next((n for n in notes if n.get("body", "").startswith(MARKER)), None)
            page += 1
        if mine:
            call("PUT", f"{notes_url}/{mine['id']}", token, {"body": body})
        else:
            call("POST", notes_url, token, {"body": body})
    except OSError as e:  # urllib's errors; the token is never in them
        print(f"gitlab-mr-note: {notes_url}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
