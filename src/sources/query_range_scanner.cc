#include "sources/query_range_scanner.h"

#include <cstring>

#include "core/decimal.h"

namespace gpuledger {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool IsNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// The closing quote of the string opening at "open" (a quote not escaped by an odd run of
// backslashes), or nullptr when it has not come yet.
const char* StringEnd(const char* open, const char* end) {
  for (const char* q = open + 1;; ++q) {
    q = static_cast<const char*>(std::memchr(q, '"', end - q));
    if (q == nullptr) return nullptr;
    size_t backslashes = 0;
    for (const char* b = q - 1; b > open && *b == '\\'; --b) ++backslashes;
    if (backslashes % 2 == 0) return q;
  }
}

// A whole JSON number, or false.
bool ParseNumber(std::string_view text, double* out) {
  if (text.empty() || text[0] == '+') return false;
  return ParseDecimal(text, out);
}

// The usual point time, whole seconds with up to three decimals ("1735689600.034"), as the
// double ParseNumber gives (the same exact integer of milliseconds over 1000, rounded once),
// without its general loop; false, *p untouched, for anything else.
bool ParseMilliseconds(const char** p, const char* end, double* time_s) {
  const char* q = *p;
  uint64_t ms = 0;
  int digits = 0;
  for (; q < end && static_cast<unsigned>(*q - '0') < 10 && digits < 13; ++q, ++digits) {
    ms = ms * 10 + static_cast<uint64_t>(*q - '0');
  }
  if (digits == 0 || digits == 13) return false;
  int decimals = 0;
  if (q < end && *q == '.') {
    for (++q; q < end && static_cast<unsigned>(*q - '0') < 10 && decimals < 4; ++q, ++decimals) {
      ms = ms * 10 + static_cast<uint64_t>(*q - '0');
    }
    if (decimals == 0 || decimals == 4) return false;
  }
  if (q == end || IsNumberChar(*q)) return false;  // cut off, or an exponent: the general path
  for (; decimals < 3; ++decimals) ms *= 10;
  *time_s = static_cast<double>(ms) / 1000.0;
  *p = q;
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool Hex4(std::string_view s, size_t at, uint32_t* out) {
  if (at + 4 > s.size()) return false;
  uint32_t v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return false;
  }
  *out = v;
  return true;
}

}  // namespace

bool QueryRangeScanner::Decode(std::string_view s, std::string* out) {
  out->clear();
  if (s.find('\\') == std::string_view::npos) {
    out->assign(s);
    return true;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      *out += s[i];
      continue;
    }
    if (++i >= s.size()) return false;
    switch (s[i]) {
      case '"':
        *out += '"';
        break;
      case '\\':
        *out += '\\';
        break;
      case '/':
        *out += '/';
        break;
      case 'b':
        *out += '\b';
        break;
      case 'f':
        *out += '\f';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      case 't':
        *out += '\t';
        break;
      case 'u': {
        uint32_t cp = 0, low = 0;
        if (!Hex4(s, i + 1, &cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u' && Hex4(s, i + 3, &low) && low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

void QueryRangeScanner::Feed(std::string_view piece) {
  bytes_ += piece.size();
  if (!failure_.empty()) return;
  if (buf_.empty()) {  // read the piece where it lies; keep only an unfinished token
    view_ = piece;
    Scan(false);
    if (failure_.empty()) buf_.assign(view_.substr(pos_));
  } else {
    buf_.append(piece);
    view_ = buf_;
    Scan(false);
    if (failure_.empty()) buf_.erase(0, pos_);
  }
  pos_ = 0;
}

std::string QueryRangeScanner::Finish() {
  if (failure_.empty()) {
    view_ = buf_;
    Scan(true);
  }
  if (failure_.empty() && !done_) {
    Fail(stack_.empty() ? "not JSON: no answer" : "not JSON: the answer is cut off");
  }
  if (failure_.empty() && (!saw_result_ || (!result_type_.empty() && result_type_ != "matrix"))) {
    failure_ = "expected a query_range response: data.resultType \"matrix\"";
  }
  return failure_;
}

void QueryRangeScanner::Fail(std::string why) {
  if (!failure_.empty()) return;
  failure_ = std::move(why);
  for (const Frame& f : stack_) {
    if (f.role == Role::kSeries) {
      handler_->OnSeriesEnd(series_, points_, had_metric_, had_values_);
      break;
    }
  }
  buf_.clear();
}

void QueryRangeScanner::Scan(bool last) {
  while (failure_.empty()) {
    while (pos_ < view_.size() && IsSpace(view_[pos_])) ++pos_;
    if (pos_ >= view_.size()) break;
    if (done_) {
      Fail("not JSON: text after the answer");
      break;
    }
    if (skipping_ && !stack_.empty() && stack_.back().role == Role::kValues) {
      if (!SkipValues()) break;
      stack_.back().want = Want::kCommaOrEnd;  // its ']' comes next
    }
    if (!stack_.empty() && stack_.back().role == Role::kValues &&
        (stack_.back().want == Want::kValueOrEnd || stack_.back().want == Want::kValue) &&
        view_[pos_] == '[' && TryFastPoint()) {
      continue;
    }
    Token token;
    std::string_view text;
    if (!NextToken(last, &token, &text)) {
      if (failure_.empty() && last) Fail("not JSON: the answer is cut off");
      break;
    }
    OnToken(token, text);
  }
}

bool QueryRangeScanner::NextToken(bool last, Token* token, std::string_view* text) {
  const char* p = view_.data() + pos_;
  const char* end = view_.data() + view_.size();
  switch (*p) {
    case '{':
      *token = Token::kBeginObject;
      ++pos_;
      return true;
    case '}':
      *token = Token::kEndObject;
      ++pos_;
      return true;
    case '[':
      *token = Token::kBeginArray;
      ++pos_;
      return true;
    case ']':
      *token = Token::kEndArray;
      ++pos_;
      return true;
    case ':':
      *token = Token::kColon;
      ++pos_;
      return true;
    case ',':
      *token = Token::kComma;
      ++pos_;
      return true;
    case '"': {
      const char* q = StringEnd(p, end);
      if (q == nullptr) return false;
      *token = Token::kString;
      *text = std::string_view(p + 1, q - p - 1);
      pos_ = q + 1 - view_.data();
      return true;
    }
    default:
      break;
  }
  if (IsNumberChar(*p)) {
    const char* q = p;
    while (q < end && IsNumberChar(*q)) ++q;
    if (q == end && !last) return false;
    *token = Token::kNumber;
    *text = std::string_view(p, q - p);
    pos_ = q - view_.data();
    return true;
  }
  for (std::string_view word : {"true", "false", "null"}) {
    if (*p != word[0]) continue;
    if (static_cast<size_t>(end - p) < word.size()) {
      if (last) Fail("not JSON: the answer is cut off");
      return false;
    }
    if (std::string_view(p, word.size()) != word) break;
    *token = Token::kLiteral;
    *text = word;
    pos_ += word.size();
    return true;
  }
  Fail("not JSON: unexpected '" + std::string(1, *p) + "'");
  return false;
}

bool QueryRangeScanner::SkipValues() {
  const char* const begin = view_.data();
  const char* p = begin + pos_;
  const char* const end = begin + view_.size();
  for (; p < end; ++p) {
    if (*p == '"') {  // a string may hold brackets: to its closing quote
      const char* q = StringEnd(p, end);
      if (q == nullptr) {
        pos_ = p - begin;
        return false;
      }
      p = q;
    } else if (*p == '[') {
      points_ += skip_depth_++ == 0;
    } else if (*p == ']') {
      if (skip_depth_ == 0) {
        pos_ = p - begin;
        return true;
      }
      --skip_depth_;
    }
  }
  pos_ = end - begin;
  return false;
}

bool QueryRangeScanner::TryFastPoint() {
  const char* p = view_.data() + pos_ + 1;
  const char* end = view_.data() + view_.size();
  auto skip = [&] {
    while (p < end && IsSpace(*p)) ++p;
  };
  skip();
  double time_s = 0;
  if (!ParseMilliseconds(&p, end, &time_s)) {  // anything else: a JSON number read whole
    const char* number = p;
    while (p < end && IsNumberChar(*p)) ++p;
    if (p == end || !ParseNumber(std::string_view(number, p - number), &time_s)) return false;
  }
  skip();
  if (p == end || *p != ',') return false;
  ++p;
  skip();
  if (p == end || *p != '"') return false;
  const char* value = ++p;
  const char* close = static_cast<const char*>(std::memchr(p, '"', end - p));
  if (close == nullptr || std::memchr(value, '\\', close - value) != nullptr) return false;
  p = close + 1;
  skip();
  if (p == end || *p != ']') return false;
  ++p;
  pos_ = p - view_.data();
  stack_.back().want = Want::kCommaOrEnd;
  skip();  // the ',' before the next point is taken here, when the next '[' is in view
  if (p < end && *p == ',') {
    ++p;
    skip();
    if (p < end && *p == '[') pos_ = p - view_.data(), stack_.back().want = Want::kValue;
  }
  ++points_;
  EndPoint(true, time_s, std::string_view(value, close - value));
  return true;
}

void QueryRangeScanner::OnToken(Token token, std::string_view text) {
  if (stack_.empty()) {
    if (token != Token::kBeginObject) {
      Fail("expected a query_range response: the answer is no JSON object");
      return;
    }
    stack_.push_back({Role::kRoot, true, Want::kKeyOrEnd, {}});
    return;
  }
  Frame& f = stack_.back();
  const bool close = token == (f.object ? Token::kEndObject : Token::kEndArray);
  switch (f.want) {
    case Want::kKeyOrEnd:
    case Want::kKey:
      if (close && f.want == Want::kKeyOrEnd) return OnClose();
      if (token != Token::kString) return Fail("not JSON: expected a key");
      if (!Decode(text, &f.key)) return Fail("not JSON: a bad escape");
      f.want = Want::kColon;
      return;
    case Want::kColon:
      if (token != Token::kColon) return Fail("not JSON: expected ':'");
      f.want = Want::kValue;
      return;
    case Want::kValueOrEnd:
      if (close) return OnClose();
      [[fallthrough]];
    case Want::kValue:
      f.want = Want::kCommaOrEnd;
      return OnValue(token, text);
    case Want::kCommaOrEnd:
      if (close) return OnClose();
      if (token != Token::kComma) return Fail("not JSON: expected ',' or the end");
      f.want = f.object ? Want::kKey : Want::kValue;
      return;
  }
}

void QueryRangeScanner::OnValue(Token token, std::string_view text) {
  const bool container = token == Token::kBeginObject || token == Token::kBeginArray;
  if (!container && (token == Token::kEndObject || token == Token::kEndArray ||
                     token == Token::kColon || token == Token::kComma)) {
    return Fail("not JSON: expected a value");
  }
  const Role role = stack_.back().role;
  const std::string key = stack_.back().object ? stack_.back().key : std::string();
  auto push = [&](Role r) {
    const bool object = token == Token::kBeginObject;
    stack_.push_back({r, object, object ? Want::kKeyOrEnd : Want::kValueOrEnd, {}});
  };
  auto skip = [&] {
    if (container) push(Role::kSkip);
  };
  switch (role) {
    case Role::kRoot:
    case Role::kData:
      if (role == Role::kRoot && key == "data" && token == Token::kBeginObject) {
        push(Role::kData);
      } else if (key == "result" && token == Token::kBeginArray) {
        saw_result_ = true;
        push(!result_type_.empty() && result_type_ != "matrix" ? Role::kSkip : Role::kResult);
      } else if (token == Token::kString &&
                 (key == "status" || key == "errorType" || key == "error" || key == "resultType")) {
        std::string* into = key == "status"      ? &status_
                            : key == "errorType" ? &error_type_
                            : key == "error"     ? &error_
                                                 : &result_type_;
        if (!Decode(text, into)) return Fail("not JSON: a bad escape");
      } else {
        skip();
      }
      return;
    case Role::kResult:
      ++series_;
      points_ = 0, had_metric_ = false, had_values_ = false;
      skipping_ = false, skip_depth_ = 0;
      labels_.clear(), held_.clear();
      if (token == Token::kBeginObject) return push(Role::kSeries);
      handler_->OnSeriesEnd(series_, 0, false, false);
      return skip();
    case Role::kSeries:
      if (key == "metric" && token == Token::kBeginObject && !had_metric_)
        return push(Role::kMetric);
      if (key == "values" && token == Token::kBeginArray && !had_values_) {
        had_values_ = true;
        return push(Role::kValues);
      }
      return skip();
    case Role::kMetric:
      if (token == Token::kString) {
        if (!Decode(text, &scratch_)) return Fail("not JSON: a bad escape");
        labels_.emplace_back(key, scratch_);
      }
      return skip();
    case Role::kValues:
      if (token == Token::kBeginArray) {
        point_items_ = 0, point_ok_ = true;
        return push(Role::kPoint);
      }
      ++points_;
      EndPoint(false, 0, "");
      return skip();
    case Role::kPoint:
      ++point_items_;
      if (point_items_ == 1 && token == Token::kNumber) {
        point_ok_ = point_ok_ && ParseNumber(text, &point_time_);
      } else if (point_items_ == 2 && token == Token::kString) {
        if (!Decode(text, &point_value_)) return Fail("not JSON: a bad escape");
      } else {
        point_ok_ = false;
      }
      return skip();
    case Role::kSkip:
      return skip();
  }
}

void QueryRangeScanner::OnClose() {
  const Role role = stack_.back().role;
  stack_.pop_back();
  switch (role) {
    case Role::kRoot:
      done_ = true;
      return;
    case Role::kMetric:
      had_metric_ = true;
      handler_->OnSeries(series_, labels_);
      skipping_ = handler_->SkipsPoints(series_);
      for (const Held& h : held_) {
        h.ok ? handler_->OnPoint(series_, h.point, h.time_s, h.value)
             : handler_->OnBadPoint(series_, h.point);
      }
      held_.clear();
      return;
    case Role::kPoint:
      ++points_;
      EndPoint(point_ok_ && point_items_ == 2, point_time_, point_value_);
      return;
    case Role::kSeries:
      handler_->OnSeriesEnd(series_, points_, had_metric_, had_values_);
      held_.clear();
      return;
    default:
      return;
  }
}

void QueryRangeScanner::EndPoint(bool ok, double time_s, std::string_view value) {
  if (!had_metric_) {
    held_.push_back({points_, ok, time_s, std::string(value)});
    return;
  }
  ok ? handler_->OnPoint(series_, points_, time_s, value) : handler_->OnBadPoint(series_, points_);
}

}  // namespace gpuledger
