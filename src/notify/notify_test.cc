// Notification sinks: what Slack and Teams are sent (their shapes and limits), and the
// Notifier's promises — it never holds up the sender, tries again on 5xx and 429 only, bounds
// its queue, counts what happened.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "http_test_server.h"
#include "notify/email.h"
#include "notify/notifier.h"
#include "notify/sink.h"

namespace gpuledger {
namespace {

using gpuledger::testing::HttpTestServer;
using gpuledger::testing::TestRequest;
using gpuledger::testing::TestResponse;

Notice AWarning() {
  Notice n;
  n.title = "gpuledger guard on node-a: an idle GPU workload will be stopped";
  n.text = "pg:4242 of asha has been idle for 25m on GPU 3; it will be stopped at 14:05 UTC";
  n.facts = {{"Node", "node-a"}, {"Workload", "pg:4242"}, {"Owner", "asha"}, {"GPU", "3"}};
  n.action = "gpuledger keep pg:4242 2h --reason \"what it is doing\"";
  n.slack_user = "U024BE7LH";
  n.webhook_json = R"({"text":"gpuledger guard on node-a: …","workload":"pg:4242"})";
  return n;
}

TEST(NotifySink, SpecsNameTheKindAndAnHttpUrl) {
  auto slack = ParseNotifySink("slack:https://hooks.slack.com/services/T/B/x");
  ASSERT_TRUE(slack);
  EXPECT_EQ(slack->kind, NotifySink::Kind::kSlack);
  EXPECT_EQ(slack->url, "https://hooks.slack.com/services/T/B/x");
  EXPECT_STREQ(slack->Label(), "slack");
  EXPECT_EQ(ParseNotifySink("teams:http://127.0.0.1:9/x")->kind, NotifySink::Kind::kTeams);
  EXPECT_EQ(ParseNotifySink("webhook:http://127.0.0.1:9/x")->kind, NotifySink::Kind::kWebhook);
  EXPECT_FALSE(ParseNotifySink("https://hooks.slack.com/x"));  // no kind
  EXPECT_FALSE(ParseNotifySink("irc:http://x"));
  EXPECT_FALSE(ParseNotifySink("slack:file:///etc/passwd"));
  EXPECT_EQ(ParseNotifySink("pager:x").error().code, ErrorCode::kUsage);
}

TEST(NotifySink, SlackGetsBlocksWithinItsLimitsAndAPlainFallback) {
  Notice n = AWarning();
  n.text = "<!channel> " + std::string(10000, 'x');  // a name that tries to ping everyone
  for (int i = 0; i < 15; ++i) n.facts.emplace_back("fact " + std::to_string(i), "v");
  const std::string json = RenderNotice(NotifySink::Kind::kSlack, n);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  const std::string_view fallback = doc["text"].get_string().value();
  EXPECT_TRUE(fallback.starts_with("<@U024BE7LH> gpuledger guard on node-a"));
  EXPECT_LE(fallback.size(), 3000u);
  simdjson::dom::array blocks = doc["blocks"].get_array();
  EXPECT_LE(blocks.size(), 50u);
  ASSERT_EQ(blocks.size(), 4u);  // header, the message, the facts, how to keep it
  EXPECT_EQ(blocks.at(0)["type"].get_string().value(), "header");
  EXPECT_LE(blocks.at(0)["text"]["text"].get_string().value().size(), 150u);
  const std::string_view message = blocks.at(1)["text"]["text"].get_string().value();
  EXPECT_LE(message.size(), 3000u);
  EXPECT_TRUE(message.starts_with("<@U024BE7LH> &lt;!channel&gt; xxx")) << message.substr(0, 40);
  EXPECT_EQ(blocks.at(2)["fields"].get_array().size(), 10u);  // Slack's most
  EXPECT_EQ(blocks.at(2)["fields"].at(1)["text"].get_string().value(), "*Workload*\npg:4242");
  EXPECT_NE(blocks.at(3)["text"]["text"].get_string().value().find("`gpuledger keep pg:4242 2h"),
            std::string_view::npos);
}

TEST(NotifySink, TeamsGetsOneAdaptiveCardWithTheFacts) {
  const std::string json = RenderNotice(NotifySink::Kind::kTeams, AWarning());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  EXPECT_EQ(doc["type"].get_string().value(), "message");
  simdjson::dom::element attachment = doc["attachments"].at(0);
  EXPECT_EQ(attachment["contentType"].get_string().value(),
            "application/vnd.microsoft.card.adaptive");
  simdjson::dom::element card = attachment["content"];
  EXPECT_EQ(card["type"].get_string().value(), "AdaptiveCard");
  EXPECT_EQ(card["version"].get_string().value(), "1.4");
  simdjson::dom::array body = card["body"].get_array();
  EXPECT_EQ(body.at(0)["text"].get_string().value(), AWarning().title);
  EXPECT_EQ(body.at(2)["type"].get_string().value(), "FactSet");
  EXPECT_EQ(body.at(2)["facts"].at(2)["title"].get_string().value(), "Owner");
  EXPECT_EQ(body.at(2)["facts"].at(2)["value"].get_string().value(), "asha");
  EXPECT_EQ(body.at(4)["fontType"].get_string().value(), "Monospace");
}

TEST(NotifySink, TheWebhookGetsItsJsonUnchanged) {
  EXPECT_EQ(RenderNotice(NotifySink::Kind::kWebhook, AWarning()), AWarning().webhook_json);
}

NotifySink Sink(NotifySink::Kind kind, const std::string& url) {
  NotifySink s;
  s.kind = kind;
  s.url = url;
  return s;
}

// Polls until "done" holds, for up to "seconds".
template <typename Done>
bool WaitFor(double seconds, Done done) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(Notifier, A5xxIsTriedAgainUntilDeliveredAndA4xxIsNot) {
  std::atomic<int> calls{0};
  HttpTestServer flaky([&](const TestRequest&) {
    return TestResponse{++calls <= 2 ? 503 : 200, {}, "ok"};
  });
  HttpTestServer refusing([](const TestRequest&) { return TestResponse{400, {}, "no"}; });
  std::FILE* log = std::tmpfile();
  Notifier n({Sink(NotifySink::Kind::kSlack, flaky.url() + "/hook"),
              Sink(NotifySink::Kind::kTeams, refusing.url() + "/hook")},
             log, "test");
  n.Send(AWarning());
  ASSERT_TRUE(WaitFor(10, [&] {
    auto c = n.counts();
    return c[0].delivered + c[0].failed == 1 && c[1].delivered + c[1].failed == 1;
  }));
  const auto c = n.counts();
  EXPECT_EQ(c[0].sink, "slack");
  EXPECT_EQ(c[0].delivered, 1u);
  EXPECT_EQ(c[0].retries, 2u);  // 503, 503, then 200
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(c[1].sink, "teams");
  EXPECT_EQ(c[1].failed, 1u);
  EXPECT_EQ(c[1].retries, 0u);  // a 400 will not get better
  EXPECT_EQ(refusing.requests().size(), 1u);
  // Each sink got its own rendering.
  EXPECT_NE(flaky.requests()[0].body.find("\"blocks\""), std::string::npos);
  EXPECT_NE(refusing.requests()[0].body.find("AdaptiveCard"), std::string::npos);
  EXPECT_EQ(flaky.requests()[0].headers["content-type"], "application/json");
  std::fclose(log);
}

TEST(Notifier, ASinkThatHangsNeverHoldsUpTheSenderAndItsQueueIsBounded) {
  HttpTestServer hanging([](const TestRequest&) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    return TestResponse{200, {}, ""};
  });
  std::FILE* log = std::tmpfile();
  const auto start = std::chrono::steady_clock::now();
  {
    Notifier n({Sink(NotifySink::Kind::kWebhook, hanging.url() + "/hook")}, log, "test");
    n.drain_ms = 0;  // stopping drops what waits
    for (size_t i = 0; i < Notifier::kMaxQueued + 10; ++i) n.Send(AWarning());
    const auto sent = std::chrono::steady_clock::now() - start;
    EXPECT_LT(sent, std::chrono::milliseconds(500));
    ASSERT_TRUE(WaitFor(2, [&] { return hanging.requests().size() == 1; }));  // one in flight
    EXPECT_GE(n.counts()[0].dropped, 9u);  // the oldest beyond 1,000 waiting were dropped
    EXPECT_EQ(n.counts()[0].delivered, 0u);
  }
  // The destructor waited for the post in flight (the hook answers after 3 s), no more.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
  std::fclose(log);
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

TEST(NotifySink, KeepOffersAreSlackButtonsTeamsLinksAndEmailLinks) {
  Notice n = AWarning();
  n.keep_offers = {{"Keep 2h", R"({"workload":"pg:4242"})", "https://gl.example/keep?t=a.b"},
                   {"Keep 8h", R"({"workload":"pg:4242","d":8})", "https://gl.example/keep?t=c.d"}};
  simdjson::dom::parser parser;
  const std::string slack = RenderNotice(NotifySink::Kind::kSlack, n);
  simdjson::dom::element d = parser.parse(slack);
  simdjson::dom::array blocks = d["blocks"];
  simdjson::dom::element last = blocks.at(blocks.size() - 1);
  EXPECT_EQ(std::string_view(last["type"]), "actions");
  EXPECT_EQ(std::string_view(last["block_id"]), "gpuledger_keep");
  simdjson::dom::array buttons = last["elements"];
  ASSERT_EQ(buttons.size(), 2u);
  EXPECT_EQ(std::string_view(buttons.at(0)["text"]["text"]), "Keep 2h");
  EXPECT_EQ(std::string_view(buttons.at(0)["value"]), R"({"workload":"pg:4242"})");
  EXPECT_EQ(std::string_view(buttons.at(1)["action_id"]), "keep_1");
  const std::string teams = RenderNotice(NotifySink::Kind::kTeams, n);
  simdjson::dom::element card = parser.parse(teams)["attachments"].at(0)["content"];
  simdjson::dom::array actions = card["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(std::string_view(actions.at(1)["type"]), "Action.OpenUrl");
  EXPECT_EQ(std::string_view(actions.at(1)["url"]), "https://gl.example/keep?t=c.d");
  const std::string m = RenderEmail(n, "guard@node-a.example", {"asha@x.io"});
  EXPECT_NE(m.find("\r\nKeep 2h: https://gl.example/keep?t=a.b\r\n"), std::string::npos);
  EXPECT_NE(m.find("<a href=\"https://gl.example/keep?t=c.d\""), std::string::npos);
  n.keep_offers.clear();  // no offers: no actions at all
  EXPECT_EQ(RenderNotice(NotifySink::Kind::kSlack, n).find("actions"), std::string::npos);
  EXPECT_EQ(RenderNotice(NotifySink::Kind::kTeams, n).find("Action.OpenUrl"), std::string::npos);
}

TEST(NotifySink, TeamsMakesNoLinkOfAUsersText) {
  Notice n = AWarning();
  n.text = "pg:1 of [click here](https://evil.example) is idle";
  n.facts = {{"Command", "[x](https://evil.example)"}};
  const std::string teams = RenderNotice(NotifySink::Kind::kTeams, n);
  EXPECT_EQ(teams.find("](https"), std::string::npos) << teams;
  EXPECT_NE(teams.find("[click here]\u200B(https://evil.example)"), std::string::npos);
}

TEST(NotifySink, SectionsAreHeadedListsInEverySink) {
  Notice n = AWarning();
  n.sections = {{"Top practices", {"$4.50 (idle_outside_jobs): release <machines>", "b"}}};
  const std::string slack = RenderNotice(NotifySink::Kind::kSlack, n);
  EXPECT_NE(
      slack.find(
          R"("text":"*Top practices*\n• $4.50 (idle_outside_jobs): release &lt;machines&gt;\n• b")"),
      std::string::npos)
      << slack;
  simdjson::dom::parser parser;
  const std::string teams = RenderNotice(NotifySink::Kind::kTeams, n);
  simdjson::dom::array body = parser.parse(teams)["attachments"].at(0)["content"]["body"];
  bool found = false;
  for (simdjson::dom::element item : body) {
    std::string_view type = item["type"];
    if (type != "Container") continue;
    simdjson::dom::array items = item["items"];
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(std::string_view(items.at(0)["text"]), "Top practices");
    EXPECT_EQ(std::string_view(items.at(2)["text"]), "• b");
    found = true;
  }
  EXPECT_TRUE(found) << teams;
  const std::string m = RenderEmail(n, "digest@example.com", {"asha@x.io"});
  EXPECT_NE(m.find("\r\nTop practices\r\n  - $4.50 (idle_outside_jobs): release <machines>\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("<h4>Top practices</h4>\r\n<ul>\r\n<li>$4.50 (idle_outside_jobs): release "
                   "&lt;machines&gt;</li>"),
            std::string::npos);
}

TEST(NotifyEmail, NoLineIsLongerThanSmtpAllows) {
  Notice n = AWarning();
  n.text = std::string(1500, 'Q') + " " + std::string(3000, 'Q');  // one space, then none
  const std::string m = RenderEmail(n, "guard@node-a.example", {"asha@x.io"});
  size_t longest = 0;
  for (size_t at = 0, nl; (nl = m.find("\r\n", at)) != std::string::npos; at = nl + 2)
    longest = std::max(longest, nl - at);
  EXPECT_LE(longest, 998u);
  EXPECT_EQ(std::count(m.begin(), m.end(), 'Q'), 2 * 4500);  // folded, nothing lost (2 parts)
}

TEST(NotifyEmail, OneMessageWithATextAndAnHtmlPartAndNoInjectedHeader) {
  Notice n = AWarning();
  n.title = "idle GPU\r\nBcc: everyone@example.com";  // a title that tries to add a header
  n.text = "pg:1 <script>alert(1)</script> is idle";
  const std::string m = RenderEmail(n, "guard@node-a.example", {"oncall@example.com", "asha@x.io"});
  EXPECT_NE(m.find("\r\nFrom: guard@node-a.example\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nTo: oncall@example.com, asha@x.io\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nSubject: idle GPU  Bcc: everyone@example.com\r\n"), std::string::npos);
  const std::string headers = m.substr(0, m.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  EXPECT_NE(m.find("Owner: asha\r\n"), std::string::npos);  // the facts, in the text part
  EXPECT_NE(m.find("&lt;script&gt;"), std::string::npos);   // escaped in the HTML part
  EXPECT_NE(m.find(">Owner</th><td>asha</td>"), std::string::npos);
  EXPECT_NE(m.find("gpuledger keep pg:4242 2h"), std::string::npos);
  for (size_t i = m.find('\n'); i != std::string::npos; i = m.find('\n', i + 1))
    ASSERT_EQ(m[i - 1], '\r') << "a bare LF at " << i;
}

TEST(NotifyEmail, SinksNameOnePlainAddress) {
  auto sink = ParseNotifySink("email:oncall@example.com");
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->kind, NotifySink::Kind::kEmail);
  EXPECT_STREQ(sink->Label(), "email");
  EXPECT_FALSE(ParseNotifySink("email:oncall@example.com\r\nRCPT TO:<x@y>"));
  EXPECT_FALSE(ParseNotifySink("email:<oncall@example.com>"));
  EXPECT_FALSE(ParseNotifySink("email:nobody"));
}

}  // namespace
}  // namespace gpuledger
