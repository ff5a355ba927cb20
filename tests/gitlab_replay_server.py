"""A stand-in for the subset of GitLab's REST API v4 that `gpuledger pr-check --gitlab` and
`gpuledger reviews fetch --gitlab` use, answering with responses recorded from a real GitLab
(tests/data/real/gitlab: gitlab.kitware.com, merge request utils/rust-gitlab!35).

Usage: gitlab_replay_server.py DATA_DIR LOG_FILE [OTHER_ORIGIN]
Binds 127.0.0.1 port 0 and prints the port. Under /api/v4 it serves:
  GET  /groups/utils/projects                          the recorded project
  GET  /projects/utils%2Frust-gitlab/merge_requests    the recorded merge request, as a listing
  GET  …/merge_requests/35                              the recorded merge request
  GET  …/merge_requests/35/approvals                    built from its recorded reviewer (the
       recordings hold no approvals; the shape is the one GitLab's API documentation gives)
  GET  …/merge_requests/35/discussions                  the 12 recorded discussions, a planted one
       (kwrobot's recorded first note with its body starting with gpuledger's marker: never ours
       to edit) and those made here, 5 per page (Link rel="next"); the first request is answered
       429 with Retry-After: 1
  GET  /user    the token's user: the recorded author of note.json (brad.king), who also writes
       the notes made here
  GET  …/merge_requests/35/commits                      the recorded commit, then the same object
       naming the merge request's head; one per page, with OTHER_ORIGIN the second page linked
       there (credentials must not follow)
  POST …/merge_requests/35/notes, PUT …/notes/ID, POST /projects/utils%2Frust-gitlab/statuses/SHA
       stored, answered with the recorded note and status bodies (their id, body and state set)
Each request is appended to LOG_FILE as one JSON line: method, path, authorization (whether
one was sent, and its scheme), body.
"""
import json
import os
import sys
import urllib.parse

from replay_server import ReplayHandler, serve

data_dir, log_file = sys.argv[1], sys.argv[2]
other_origin = sys.argv[3] if len(sys.argv) > 3 else ""
PROJECT = "/api/v4/projects/utils%2Frust-gitlab"
MR = PROJECT + "/merge_requests/35"


def load(name):
    with open(os.path.join(data_dir, name)) as f:
        return json.load(f)


merge_request = load("merge_request.json")
discussions = load("discussion.json")
planted_note = dict(discussions[0]["notes"][0], body="<!-- gpuledger:pr-check -->\nplanted")
discussions.append(dict(discussions[0], notes=[planted_note]))
commit = load("repo_commit_detail.json")
head = dict(commit, id=merge_request["sha"], short_id=merge_request["sha"][:8])
commits = [commit, head]
approvals = {"id": merge_request["id"], "iid": 35, "project_id": merge_request["project_id"],
             "approved": True, "approvals_required": 0, "approvals_left": 0,
             "approved_by": [{"user": merge_request["reviewers"][0]}]}
statuses = []
rate_limited_once = False
next_id = 990000001


class Handler(ReplayHandler):
    def do_GET(self):
        global rate_limited_once
        self.log(None)
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/api/v4/user":
            return self.answer(200, load("note.json")["author"])
        if url.path == "/api/v4/groups/utils/projects":
            return self.answer(200, [load("project.json")])
        if url.path == PROJECT + "/merge_requests":
            return self.page([merge_request], url.path, query, 20)
        if url.path == MR:
            return self.answer(200, merge_request)
        if url.path == MR + "/approvals":
            return self.answer(200, approvals)
        if url.path == MR + "/discussions":
            if not rate_limited_once:
                rate_limited_once = True
                return self.answer(429, "Retry later", [("Retry-After", "1")])
            return self.page(discussions, url.path, query, 5)
        if url.path == MR + "/commits":
            page = int(query.get("page", ["1"])[0])
            return self.page(commits, url.path, query, 1, other_origin if page == 1 else None)
        self.answer(404, {"message": "404 Not found"})

    def do_POST(self):
        global next_id
        body = self.read_body()
        if self.path == MR + "/notes":
            made = load("note.json")
            made.update(id=next_id, body=body["body"], system=False, type=None)
            next_id += 1
            discussions.append({"id": "%040x" % made["id"], "individual_note": True,
                                "notes": [made]})
            return self.answer(201, made)
        if self.path.startswith(PROJECT + "/statuses/"):
            made = load("commit_status.json")
            made.update(status=body.get("state"), name=body.get("name"),
                        description=body.get("description"), sha=self.path.rsplit("/", 1)[1])
            statuses.append(made)
            return self.answer(201, made)
        self.answer(404, {"message": "404 Not found"})

    def do_PUT(self):
        body = self.read_body()
        prefix = MR + "/notes/"
        if self.path.startswith(prefix):
            wanted = int(self.path[len(prefix):])
            for d in discussions:
                for n in d["notes"]:
                    if n["id"] == wanted:
                        n["body"] = body["body"]
                        return self.answer(200, n)
        self.answer(404, {"message": "404 Not found"})


serve(Handler, log_file)
