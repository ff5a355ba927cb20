"""A stand-in for the subset of the GitHub REST API `gpuledger pr-check` uses, answering with
responses recorded from the real API (tests/data/real/github, from PyGithub's ReplayData).

Usage: github_replay_server.py DATA_DIR LOG_FILE [OTHER_ORIGIN]
Binds 127.0.0.1 port 0 and prints the port. Serves PyGithub/PyGithub#3370:
  GET  /repos/PyGithub/PyGithub/pulls/3370               the recorded pull request
  GET  …/pulls/3370/reviews, …/pulls/3370/commits        one item per page (Link rel="next");
       with OTHER_ORIGIN the reviews' second page is linked there (credentials must not follow)
  GET  /repos/PyGithub/PyGithub/issues/3370/comments     the recorded comments and those posted
       here, one per page, after a planted one: stuglaser's recorded comment with its body
       starting with gpuledger's marker (never ours to edit); the first request is answered with
       the recorded 403 and Retry-After (cut from 60 s to 1 s)
  GET  /user    the token's user: the recorded author of comment-created.json (jacquev6); for a
       token starting "ghs_" (a GitHub Actions token) the 403 such a token gets, and what it
       posts is written by the recorded dependabot[bot] (a Bot), as github-actions[bot] would be
  POST …/issues/3370/comments, PATCH …/issues/comments/ID, POST …/statuses/SHA
       stored, answered with the recorded response bodies (their id, body and state set)
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
REPO = "/repos/PyGithub/PyGithub"


def load(name):
    with open(os.path.join(data_dir, name)) as f:
        return json.load(f)


pull = load("pull-3370.json")
reviews = [load("review-commented.json"), load("review-approved.json")]
commits = load("pull-3370-commits.json")
comments = load("issue-comments.json")
planted = dict(comments[1], body="<!-- gpuledger:pr-check -->\nplanted by someone else")
comments.insert(0, planted)
statuses = []
rate_limited_once = False
next_id = 900000001


class Handler(ReplayHandler):
    def do_GET(self):
        global rate_limited_once
        self.log(None)
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/user":
            if self.actions_token():
                return self.answer(403, {"message": "Resource not accessible by integration"})
            return self.answer(200, load("comment-created.json")["user"])
        if url.path == REPO + "/pulls/3370":
            return self.answer(200, pull)
        if url.path == REPO + "/pulls/3370/reviews":
            page = int(query.get("page", ["1"])[0])
            return self.page(reviews, url.path, query, origin_of_next=other_origin if page == 1 else None)
        if url.path == REPO + "/pulls/3370/commits":
            return self.page(commits, url.path, query)
        if url.path == REPO + "/issues/3370/comments":
            if not rate_limited_once:
                rate_limited_once = True
                return self.answer(403, load("rate-limited.json"), [("Retry-After", "1")])
            return self.page(comments, url.path, query)
        self.answer(404, {"message": "Not Found"})

    def actions_token(self):
        return self.headers.get("Authorization", "").startswith("Bearer ghs_")

    def do_POST(self):
        global next_id
        body = self.read_body()
        if self.path == REPO + "/issues/3370/comments":
            made = load("comment-created.json")
            made["id"], made["body"] = next_id, body["body"]
            if self.actions_token():
                made["user"] = pull["user"]
            next_id += 1
            comments.append(made)
            return self.answer(201, made)
        if self.path.startswith(REPO + "/statuses/"):
            made = load("status-created.json")
            made.update({k: body.get(k) for k in ("state", "description", "context")})
            statuses.append(made)
            return self.answer(201, made)
        self.answer(404, {"message": "Not Found"})

    def do_PATCH(self):
        body = self.read_body()
        prefix = REPO + "/issues/comments/"
        if self.path.startswith(prefix):
            wanted = int(self.path[len(prefix):])
            for c in comments:
                if c["id"] == wanted:
                    c["body"] = body["body"]
                    edited = load("comment-edited.json")
                    edited["id"], edited["body"] = wanted, body["body"]
                    return self.answer(200, edited)
        self.answer(404, {"message": "Not Found"})


serve(Handler, log_file)
