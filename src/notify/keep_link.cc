#include "notify/keep_link.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <vector>

#include "core/json_writer.h"
#include "core/signing.h"

namespace gpuledger {
namespace {

constexpr std::string_view kVersion = "gpuledger-keep-v1";

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    const size_t nl = text.find('\n', at);
    out.push_back(text.substr(at, nl == std::string_view::npos ? nl : nl - at));
    if (nl == std::string_view::npos) return out;
    at = nl + 1;
  }
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<std::string> SignKeepLink(const KeepLink& link, std::string_view secret) {
  const KeepAsk& a = link.ask;
  for (std::string_view field : {std::string_view(a.host), std::string_view(a.workload),
                                 std::string_view(a.owner), std::string_view(link.nonce)}) {
    if (field.find('\n') != std::string_view::npos)
      return MakeError(ErrorCode::kInvalid, "a keep link's field holds a newline");
  }
  const std::string body = fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", kVersion, a.host, a.workload,
                                       a.owner, a.duration_ms, link.expires, link.nonce);
  return Base64UrlEncode(body) + "." + Base64UrlEncode(HmacSha256(secret, body));
}

Result<KeepLink> VerifyKeepLink(std::string_view token, std::string_view secret, TimeMs now) {
  const size_t dot = token.find('.');
  auto bad = MakeError(ErrorCode::kInvalid, "this keep link is not one gpuledger signed");
  if (dot == std::string_view::npos) return bad;
  auto body = Base64UrlDecode(token.substr(0, dot));
  auto signature = Base64UrlDecode(token.substr(dot + 1));
  if (!body || !signature || !SameBytes(*signature, HmacSha256(secret, *body))) return bad;
  const std::vector<std::string_view> f = SplitLines(*body);
  KeepLink link;
  if (f.size() != 7 || f[0] != kVersion || !ParseInt(f[4], &link.ask.duration_ms) ||
      !ParseInt(f[5], &link.expires))
    return bad;
  link.ask.host = f[1], link.ask.workload = f[2], link.ask.owner = f[3], link.nonce = f[6];
  if (now >= link.expires) {
    return MakeError(ErrorCode::kInvalid, "this keep link expired at " +
                                              FormatIsoUtc(link.expires) +
                                              " (the workload was due to stop then)");
  }
  return link;
}

std::string KeepButtonValue(const KeepAsk& a) {
  JsonWriter w(false);
  w.BeginObject().Key("host").String(a.host).Key("workload").String(a.workload);
  w.Key("owner").String(a.owner).Key("duration_ms").Int(a.duration_ms).EndObject();
  return w.str();
}

Result<KeepAsk> ParseKeepButtonValue(std::string_view value) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  auto bad = MakeError(ErrorCode::kInvalid, "not a gpuledger keep button");
  if (parser.parse(simdjson::padded_string(value)).get(o) != simdjson::SUCCESS) return bad;
  KeepAsk a;
  std::string_view host, workload, owner;
  if (o["host"].get(host) || o["workload"].get(workload) || o["owner"].get(owner) ||
      o["duration_ms"].get(a.duration_ms) || host.empty() || workload.empty() || a.duration_ms <= 0)
    return bad;
  a.host = host, a.workload = workload, a.owner = owner;
  return a;
}

}  // namespace gpuledger
