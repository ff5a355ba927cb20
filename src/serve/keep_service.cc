#include "serve/keep_service.h"

#include <fmt/format.h>
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/json_writer.h"
#include "core/listen_address.h"
#include "core/text_safety.h"
#include "ledger/ledger.h"
#include "notify/keep_link.h"
#include "notify/sink.h"
#include "notify/webhook.h"
#include "serve/slack_interaction.h"

namespace gpuledger {
namespace {

constexpr size_t kMaxBody = 256 * 1024;  // a Slack payload with its message's blocks fits
constexpr int kRelayEveryMs = 500;

// A page for a person who opened a link: plain, escaped, nothing loaded from anywhere.
std::string Page(std::string_view title, std::string_view body_html) {
  return fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; form-action 'self'\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>{0}</title>"
      "<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;"
      "padding:0 1em}}input{{width:100%}}button{{margin-top:1em;font-size:1.1em}}</style>"
      "</head><body><h2>{0}</h2>{1}</body></html>",
      HtmlEscaped(title), body_html);
}

void SendPage(httplib::Response& res, int status, std::string_view title, std::string_view html) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Referrer-Policy", "no-referrer");  // the link's token stays here
  res.set_content(Page(title, html), "text/html; charset=utf-8");
}

std::string EphemeralJson(std::string_view text) {
  JsonWriter w(false);
  w.BeginObject().Key("response_type").String("ephemeral");
  w.Key("replace_original").Bool(false).Key("text").String(text).EndObject();
  return w.str();
}

// The message again, its buttons replaced by the answer. "blocks" is a JSON array's text
// (Slack's own, minified by ParseSlackClick).
std::string ReplacementJson(const std::string& blocks, const LedgerKeepRequest& r) {
  const std::string text =
      r.state == "kept" ? "Kept: " + r.answer : "Not kept (" + r.state + "): " + r.answer;
  JsonWriter answer(false);
  answer.BeginObject().Key("type").String("context").Key("elements").BeginArray();
  answer.BeginObject().Key("type").String("mrkdwn");
  answer.Key("text").String(TruncateUtf8(SlackEscaped(text), 3000)).EndObject();
  answer.EndArray().EndObject();
  JsonWriter head(false);
  head.BeginObject().Key("replace_original").Bool(true);
  head.Key("text").String(TruncateUtf8(text, 3000)).EndObject();
  std::string out = head.str();
  out.pop_back();  // the object's '}': the blocks follow
  const bool some = blocks.size() > 2 && blocks.front() == '[' && blocks.back() == ']';
  out += ",\"blocks\":" + (some ? blocks.substr(0, blocks.size() - 1) + "," : std::string("["));
  return out + answer.str() + "]}";
}

}  // namespace

struct KeepService::Impl {
  KeepServiceOptions o;
  std::FILE* log = nullptr;
  httplib::Server server;
  int port = 0;
  std::thread listener, relay;

  std::mutex ledger_mu;
  std::unique_ptr<Ledger> ledger;  // opened on first use, again after a failure

  // The relay's: Slack answers waited for, and replies to post.
  struct Awaited {
    std::string id, reply_to, blocks;
    TimeMs deadline = 0;
  };
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::vector<Awaited> awaited;
  std::deque<std::pair<std::string, std::string>> replies;  // url, JSON

  void Say(std::string_view what) {
    fmt::print(log, "gpuledger serve: {}\n", EscapeForLog(TruncateUtf8(what, 4096)));
    std::fflush(log);
  }

  // Runs "f" on the ledger under its lock; a failure closes it, to be opened afresh next time.
  template <typename F>
  auto WithLedger(F f) -> decltype(f(*ledger)) {
    std::lock_guard lock(ledger_mu);
    if (!ledger) {
      auto opened = Ledger::OpenExisting(o.ledger);
      if (!opened) return std::unexpected(opened.error());
      ledger = std::move(*opened);
    }
    auto r = f(*ledger);
    if (!r) ledger.reset();
    return r;
  }

  std::optional<LedgerKeepRequest> Find(const std::string& id) {
    auto r = WithLedger([&](Ledger& l) { return l.KeepRequestById(id); });
    return r ? *r : std::nullopt;
  }

  bool ReplyAllowed(const std::string& url) const {
    std::string origin = o.slack_reply_origin;
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    return !url.empty() && url.starts_with(origin + "/");
  }

  void Queue(std::string url, std::string json) {
    if (url.empty()) return;
    std::lock_guard lock(mu);
    replies.emplace_back(std::move(url), std::move(json));
    wake.notify_all();
  }

  void HandleSlack(const httplib::Request& req, httplib::Response& res);
  void AuthorizeAndAsk(const SlackClick& click, const KeepAsk& ask, const std::string& signature,
                       httplib::Response& res);
  std::optional<KeepLink> VerifiedLink(const httplib::Request& req, httplib::Response& res);
  void HandleLinkGet(const httplib::Request& req, httplib::Response& res);
  void HandleLinkPost(const httplib::Request& req, httplib::Response& res);
  void RelayLoop();
};

void KeepService::Impl::HandleSlack(const httplib::Request& req, httplib::Response& res) {
  const std::string signature = req.get_header_value("X-Slack-Signature");
  if (auto ok = VerifySlackSignature(o.slack_signing_secret,
                                     req.get_header_value("X-Slack-Request-Timestamp"), signature,
                                     req.body, WallNow());
      !ok) {
    Say("refused a Slack request: " + ok.error().message);
    res.status = 401;
    res.set_content(ok.error().message + "\n", "text/plain");
    return;
  }
  auto click = ParseSlackClick(req.get_param_value("payload"));
  auto ask = click ? ParseKeepButtonValue(click->value) : std::unexpected(click.error());
  if (!ask) {
    res.status = 400;
    res.set_content(ask.error().message + "\n", "text/plain");
    return;
  }
  AuthorizeAndAsk(*click, *ask, signature, res);
}

void KeepService::Impl::AuthorizeAndAsk(const SlackClick& click, const KeepAsk& ask,
                                        const std::string& signature, httplib::Response& res) {
  // Slack is told 200 whatever happens next: the answer is posted to the response_url.
  res.status = 200;
  const std::string reply_to = ReplyAllowed(click.response_url) ? click.response_url : "";
  if (reply_to.empty() && !click.response_url.empty())
    Say("a click's response_url is not " + o.slack_reply_origin + ": no answer will be posted");
  const Person* person = FindPersonBySlack(o.people, click.user_id);
  auto refuse = [&](const std::string& why) {
    Say(fmt::format("keep of {} on {} clicked by Slack user {} refused: {}", ask.workload, ask.host,
                    click.user_id, why));
    Queue(reply_to, EphemeralJson("Not kept: " + why));
  };
  if (person == nullptr) {
    return refuse("your Slack account is not a [[person]] in gpuledger's owners.toml");
  }
  const bool owns = person->Owns(ask.owner);
  if (!owns && !person->admin) {
    return refuse(fmt::format("{} belongs to {}: only they or an admin may keep it", ask.workload,
                              ask.owner));
  }
  LedgerKeepRequest r;
  r.id = "slack:" + signature;  // one per (timestamp, body): a replay has the same
  r.host = ask.host, r.workload = ask.workload, r.duration_ms = ask.duration_ms;
  r.who = owns ? ask.owner : person->users.front();
  r.admin = !owns;
  r.reason = "kept from Slack by " + (click.user_name.empty() ? r.who : click.user_name);
  r.source = "slack", r.asked_at = WallNow(), r.reply_to = reply_to;
  auto recorded = WithLedger([&](Ledger& l) { return l.AskKeep(r); });
  if (!recorded) {
    Say("cannot record a keep request: " + recorded.error().ToString());
    res.status = 503;
    return;
  }
  if (!*recorded) {
    Say("refused a Slack click received before (a replay): " + r.id);
    res.status = 409;
    res.set_content("this click was received before\n", "text/plain");
    return;
  }
  Say(fmt::format("keep of {} on {} for {} asked from Slack by {}{}", r.workload, r.host,
                  FormatDuration(r.duration_ms), r.who, r.admin ? " (an admin)" : ""));
  std::lock_guard lock(mu);
  awaited.push_back(
      {r.id, reply_to, click.blocks_without_buttons, WallNow() + o.slack_answer_wait_ms});
  wake.notify_all();
}

std::optional<KeepLink> KeepService::Impl::VerifiedLink(const httplib::Request& req,
                                                        httplib::Response& res) {
  auto link = VerifyKeepLink(req.get_param_value("t"), o.link_secret, WallNow());
  if (!link) {
    SendPage(res, 403, "This link does not keep anything",
             "<p>" + HtmlEscaped(link.error().message) + "</p>");
    return std::nullopt;
  }
  if (auto used = Find("link:" + link->nonce)) {
    SendPage(res, 410, "This link was used already",
             "<p>" +
                 HtmlEscaped(used->state == "pending" ? "Asked; the guard has not answered yet."
                                                      : used->answer) +
                 "</p>");
    return std::nullopt;
  }
  return *link;
}

// GET shows what the link would do and asks for a click: mail scanners that open links must not
// use them up.
void KeepService::Impl::HandleLinkGet(const httplib::Request& req, httplib::Response& res) {
  auto link = VerifiedLink(req, res);
  if (!link) return;
  const KeepAsk& a = link->ask;
  SendPage(res, 200, fmt::format("Keep {} for {}?", a.workload, FormatDuration(a.duration_ms)),
           fmt::format("<p>{} on <b>{}</b>, owned by {}, is due to stop at {}.</p>"
                       "<form method=\"post\" action=\"keep\">"
                       "<input type=\"hidden\" name=\"t\" value=\"{}\">"
                       "<label>Why it should keep its GPU<br><input name=\"reason\" "
                       "value=\"kept from the email warning\" maxlength=\"200\"></label>"
                       "<button type=\"submit\">Keep it for {}</button></form>",
                       HtmlEscaped(a.workload), HtmlEscaped(a.host), HtmlEscaped(a.owner),
                       FormatIsoUtc(link->expires), HtmlEscaped(req.get_param_value("t")),
                       FormatDuration(a.duration_ms)));
}

void KeepService::Impl::HandleLinkPost(const httplib::Request& req, httplib::Response& res) {
  auto link = VerifiedLink(req, res);
  if (!link) return;
  LedgerKeepRequest r;
  r.id = "link:" + link->nonce;
  r.host = link->ask.host, r.workload = link->ask.workload, r.duration_ms = link->ask.duration_ms;
  r.who = link->ask.owner, r.source = "email", r.asked_at = WallNow();
  r.reason = std::string(TruncateUtf8(req.get_param_value("reason"), 200));
  if (r.reason.empty()) r.reason = "kept from the email warning";
  auto recorded = WithLedger([&](Ledger& l) { return l.AskKeep(r); });
  if (!recorded) {
    Say("cannot record a keep request: " + recorded.error().ToString());
    return SendPage(res, 503, "Not asked", "<p>The ledger cannot be reached; try again.</p>");
  }
  if (!*recorded) return SendPage(res, 410, "This link was used already", "");
  Say(fmt::format("keep of {} on {} for {} asked from an email link by {}", r.workload, r.host,
                  FormatDuration(r.duration_ms), r.who));
  const TimeMs deadline = WallNow() + o.link_answer_wait_ms;
  while (WallNow() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto now = Find(r.id);
    if (!now || now->state == "pending") continue;
    return SendPage(res, now->state == "kept" ? 200 : 409,
                    now->state == "kept" ? "Kept" : "Not kept",
                    "<p>" + HtmlEscaped(now->answer) + "</p>");
  }
  SendPage(res, 202, "Asked",
           "<p>The guard on " + HtmlEscaped(r.host) +
               " has not answered yet; it applies the request at its next sample.</p>");
}

void KeepService::Impl::RelayLoop() {
  std::unique_lock lock(mu);
  while (!stopping) {
    while (!replies.empty()) {
      auto [url, json] = std::move(replies.front());
      replies.pop_front();
      lock.unlock();
      const PostResult r = PostJson(url, json);
      if (!r.delivered) Say("answer to Slack not delivered: " + r.error);
      lock.lock();
    }
    std::vector<Awaited> waiting = std::move(awaited);
    awaited.clear();
    lock.unlock();
    std::vector<Awaited> still;
    for (Awaited& a : waiting) {
      auto r = Find(a.id);
      if (r && r->state != "pending") {
        Say(fmt::format("{} answered: {} — {}", a.id.substr(0, 24), r->state, r->answer));
        Queue(a.reply_to, ReplacementJson(a.blocks, *r));
      } else if (WallNow() >= a.deadline) {
        Queue(a.reply_to, EphemeralJson("No answer yet from the guard of that node: the request "
                                        "stays asked and is applied when it reads it."));
      } else {
        still.push_back(std::move(a));
      }
    }
    lock.lock();
    awaited.insert(awaited.end(), std::make_move_iterator(still.begin()),
                   std::make_move_iterator(still.end()));
    if (replies.empty()) wake.wait_for(lock, std::chrono::milliseconds(kRelayEveryMs));
  }
}

KeepService::KeepService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KeepService::~KeepService() {
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->relay.joinable()) impl_->relay.join();
}

int KeepService::port() const { return impl_->port; }

Result<std::unique_ptr<KeepService>> KeepService::Start(KeepServiceOptions options,
                                                        std::FILE* log) {
  auto address = ParseListenAddress(options.listen, "--listen");
  if (!address) return std::unexpected(address.error());
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  impl->log = log;
  Impl* s = impl.get();
  httplib::Server& server = s->server;
  server.set_payload_max_length(kMaxBody);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  // httplib 0.11 caps only bodies with a Content-Length: a chunked body is refused unread.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Transfer-Encoding")) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 411;
    res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (!s->o.slack_signing_secret.empty()) {
    server.Post("/slack/interactions", [s](const httplib::Request& req, httplib::Response& res) {
      s->HandleSlack(req, res);
    });
  }
  if (!s->o.link_secret.empty()) {
    server.Get("/keep", [s](const httplib::Request& req, httplib::Response& res) {
      s->HandleLinkGet(req, res);
    });
    server.Post("/keep", [s](const httplib::Request& req, httplib::Response& res) {
      s->HandleLinkPost(req, res);
    });
  }
  if (address->port == 0) {
    s->port = server.bind_to_any_port(address->host.c_str());
    if (s->port <= 0)
      return MakeError(ErrorCode::kIo, "cannot listen on " + s->o.listen, "--listen");
  } else {
    if (!server.bind_to_port(address->host.c_str(), address->port))
      return MakeError(ErrorCode::kIo, "cannot listen on " + s->o.listen, "--listen");
    s->port = address->port;
  }
  s->listener = std::thread([s] { s->server.listen_after_bind(); });
  s->relay = std::thread([s] { s->RelayLoop(); });
  return std::unique_ptr<KeepService>(new KeepService(std::move(impl)));
}

}  // namespace gpuledger
