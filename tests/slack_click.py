"""Clicks a keep button of a Slack message the guard sent, as Slack would post the click.

Usage: slack_click.py URL SECRET_FILE MESSAGE_JSON USER_ID RESPONSE_URL LABEL [OPTIONS]
  URL          serve's /slack/interactions
  MESSAGE_JSON the message as the Slack webhook received it (its blocks and buttons)
  LABEL        the button's text, e.g. "Keep 2h"
Options: --skew SECONDS   sign with a timestamp this far in the past
         --bad-signature  sign with another secret
         --save FILE      keep the request sent (timestamp, signature, body) for --replay
         --replay FILE    send a saved request again, unchanged
Prints the HTTP status serve answered.
Signing follows api.slack.com/authentication/verifying-requests-from-slack: the hex HMAC-SHA256
of "v0:{timestamp}:{body}" under the signing secret, sent as X-Slack-Signature: v0=…
"""
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

url, secret_file, message_file, user_id, response_url, label = sys.argv[1:7]
opts = sys.argv[7:]


def option(name):
    return opts[opts.index(name) + 1] if name in opts else None


def post(timestamp, signature, body):
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


if option("--replay"):
    saved = json.load(open(option("--replay")))
    print(post(saved["timestamp"], saved["signature"], saved["body"]))
    sys.exit(0)

message = json.load(open(message_file))
button = next(e for b in message["blocks"] if b["type"] == "actions"
              for e in b["elements"] if e["text"]["text"] == label)
payload = {
    "type": "block_actions",
    "user": {"id": user_id, "username": "user-" + user_id.lower(), "team_id": "T0"},
    "api_app_id": "A0", "container": {"type": "message"},
    "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "gpuledger_keep",
                 "value": button["value"], "text": button["text"],
                 "action_ts": str(time.time())}],
    "response_url": response_url,
    "message": {"type": "message", "text": message["text"], "blocks": message["blocks"]},
}
body = urllib.parse.urlencode({"payload": json.dumps(payload)})
timestamp = str(int(time.time()) - int(option("--skew") or 0))
secret = open(secret_file).read().strip()
if "--bad-signature" in opts:
    secret = secret + "-not"
signature = "v0=" + hmac.new(secret.encode(), ("v0:%s:%s" % (timestamp, body)).encode(),
                             hashlib.sha256).hexdigest()
if option("--save"):
    json.dump({"timestamp": timestamp, "signature": signature, "body": body},
              open(option("--save"), "w"))
print(post(timestamp, signature, body))
