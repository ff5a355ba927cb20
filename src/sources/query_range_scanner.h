// A Prometheus query_range answer read as it arrives, in pieces of any size and never whole: the
// file path reads it a block at a time, the live path as libcurl hands the body over. Only the
// answer's shape is understood — the API response ({"status", "data": {"resultType", "result"}})
// or its data object alone — and each series' "metric" labels and "values" pairs are handed to
// a QueryRangeHandler; everything else (other keys, nested values) is skipped without being
// kept. Memory is the labels of one series and an unfinished token, whatever the size of the
// answer or the length of its one line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpuledger {

using Labels = std::vector<std::pair<std::string, std::string>>;

// What a scanner finds, in document order. Series are numbered from 1, points of a series from 1.
class QueryRangeHandler {
 public:
  virtual ~QueryRangeHandler() = default;
  // A series' labels (its "metric" object; labels whose value is no string are left out).
  virtual void OnSeries(uint64_t series, const Labels& labels) = 0;
  // One [time, "value"] pair of a series whose labels came first (OnSeries). Pairs written
  // before their series' "metric" are held and handed over after it.
  virtual void OnPoint(uint64_t series, uint64_t point, double time_s, std::string_view value) = 0;
  // A value of "values" that is no [number, "string"] pair.
  virtual void OnBadPoint(uint64_t series, uint64_t point) = 0;
  // The end of a series: how many values it had, and whether it had "metric" and "values" (a
  // series lacking either was handed over as no OnSeries or no points). Also called for the
  // series a broken document stopped in.
  virtual void OnSeriesEnd(uint64_t series, uint64_t points, bool had_metric, bool had_values) = 0;
  // Asked after OnSeries: true when the series' points are of no use (another reader's
  // machine). Its "values" are then skipped unread — counted, never handed over — unless they
  // came before its "metric".
  virtual bool SkipsPoints(uint64_t /*series*/) const { return false; }
};

class QueryRangeScanner {
 public:
  explicit QueryRangeScanner(QueryRangeHandler* handler) : handler_(handler) {}

  // Reads the next piece of the answer. After an error the rest is ignored (see Finish).
  void Feed(std::string_view piece);

  // After the last piece: "" when the answer was read whole, else why it is no complete
  // query_range answer ("not JSON: …", "expected a query_range response: …"). What was handed
  // over before a broken part stands.
  std::string Finish();

  // The answer's "status", "errorType" and "error" (the API response's; "" when absent).
  const std::string& status() const { return status_; }
  const std::string& error_type() const { return error_type_; }
  const std::string& error() const { return error_; }
  const std::string& result_type() const { return result_type_; }
  uint64_t bytes() const { return bytes_; }

 private:
  enum class Role : uint8_t { kRoot, kData, kResult, kSeries, kMetric, kValues, kPoint, kSkip };
  enum class Want : uint8_t { kKeyOrEnd, kKey, kColon, kValue, kValueOrEnd, kCommaOrEnd };
  struct Frame {
    Role role;
    bool object;
    Want want;
    std::string key;  // the key whose value comes next (objects)
  };
  struct Held {
    uint64_t point;
    bool ok;
    double time_s;
    std::string value;
  };
  enum class Token : uint8_t {
    kBeginObject,
    kEndObject,
    kBeginArray,
    kEndArray,
    kColon,
    kComma,
    kString,
    kNumber,
    kLiteral
  };

  // Reads tokens from buf_ while complete ones are there; "last" when no more bytes will come.
  void Scan(bool last);
  // The next token at pos_ (false when it is cut off by the end of what came so far).
  bool NextToken(bool last, Token* token, std::string_view* text);
  bool TryFastPoint();  // one whole [number,"string"] pair of "values", without escapes
  // Skips what is left of a values array the handler does not want, up to its closing ']'
  // (true), or to the end of what came so far (false; pos_ at an unfinished string).
  bool SkipValues();
  void OnToken(Token token, std::string_view text);
  void OnValue(Token token, std::string_view text);
  void OnClose();  // the innermost container ended
  // The end of a pair: handed over, or held until its series' labels come.
  void EndPoint(bool ok, double time_s, std::string_view value);
  void Fail(std::string why);
  bool Decode(std::string_view quoted, std::string* out);

  QueryRangeHandler* handler_;
  std::string buf_;        // what came and is not read yet, when a token spans pieces
  std::string_view view_;  // what Scan reads: a piece itself, or buf_
  size_t pos_ = 0;
  std::vector<Frame> stack_;
  bool done_ = false;        // the root value ended
  bool saw_result_ = false;  // a "result" array
  std::string failure_;
  uint64_t bytes_ = 0;
  std::string status_, error_type_, error_, result_type_;
  // The series being read.
  uint64_t series_ = 0, points_ = 0;
  bool had_metric_ = false, had_values_ = false;
  bool skipping_ = false;  // its values are skipped (SkipsPoints)
  int skip_depth_ = 0;     // arrays open inside its values array
  Labels labels_;
  std::vector<Held> held_;
  // The pair being read.
  int point_items_ = 0;
  bool point_ok_ = true;
  double point_time_ = 0;
  std::string point_value_, scratch_;
};

}  // namespace gpuledger
