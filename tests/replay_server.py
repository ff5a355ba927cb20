"""What the tests' stand-ins for a forge's REST API share (github_replay_server.py,
gitlab_replay_server.py): a request log, JSON answers, pages with Link rel="next", and serving
on 127.0.0.1 port 0.

Each request is appended to the log file as one JSON line: method, path, authorization (whether
one was sent, and its scheme), body.
"""
import http.server
import json


class ReplayHandler(http.server.BaseHTTPRequestHandler):
    log_file = None  # set by serve()

    def log(self, body):
        auth = self.headers.get("Authorization")
        with open(self.log_file, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "authorization": auth.split(" ")[0] if auth else None,
                                "body": body}) + "\n")

    def answer(self, status, obj, headers=()):
        body = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def page(self, items, path, query, per_page=1, origin_of_next=None):
        """Page ?page=N of "items", per_page to a page, linking the next one (on
        origin_of_next when given: credentials must not follow it there)."""
        page = int(query.get("page", ["1"])[0])
        headers = []
        if page * per_page < len(items):
            origin = origin_of_next or "http://127.0.0.1:%d" % self.server.server_port
            headers.append(("Link", '<%s%s?per_page=%d&page=%d>; rel="next"' %
                            (origin, path, per_page, page + 1)))
        self.answer(200, items[(page - 1) * per_page:page * per_page], headers)

    def read_body(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.log(body)
        return json.loads(body) if body else {}

    def log_message(self, *args):
        pass


def serve(handler_class, log_file):
    """Serves on 127.0.0.1 port 0 and prints the port."""
    handler_class.log_file = log_file
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    print(server.server_address[1], flush=True)
    server.serve_forever()
