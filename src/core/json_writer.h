// A small streaming JSON writer for gpuledger's documented outputs. Keys keep the order in
// which they are written; numbers are written in their shortest exact form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpuledger {

class JsonWriter {
 public:
  // Pretty-prints with two-space indents when "pretty".
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);  // inside an object, before each value

  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // A finite double, rounded to "decimals" places (shortest form that reads back the same).
  JsonWriter& Number(double v, int decimals = 6);

  // The document; valid once every object and array is closed.
  const std::string& str() const { return out_; }

 private:
  void BeforeValue();
  JsonWriter& Close(char bracket);
  void Newline();

  bool pretty_;
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Decimals of gpuledger's documented JSON outputs: money to a hundredth of a cent, GPU-hours to
// the millisecond's order.
inline constexpr int kUsdDecimals = 4;
inline constexpr int kGpuHourDecimals = 6;

// "s" as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

}  // namespace gpuledger
