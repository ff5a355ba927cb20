"""A webhook receiver for the notification tests, standing in for Slack, Teams or any hook.

Usage: notify_receiver.py DIR FAIL_FIRST
Binds 127.0.0.1 port 0 and prints the port. Answers the first FAIL_FIRST POSTs with 503, then
stores each body as DIR/NNN.json (NNN counting every POST) and answers 200.
"""
import http.server
import os
import sys

out_dir, fail_first = sys.argv[1], int(sys.argv[2])
posts = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global posts
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        posts += 1
        if posts <= fail_first:
            self.send_response(503)
            self.end_headers()
            return
        with open(os.path.join(out_dir, "%03d.json" % posts), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
