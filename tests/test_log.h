// A log file for code that writes progress to a FILE*, readable back by the test.
#pragma once

#include <cstdio>
#include <string>

namespace gpuledger::testing {

class TestLog {
 public:
  TestLog() : file_(std::tmpfile()) {}
  ~TestLog() { std::fclose(file_); }
  TestLog(const TestLog&) = delete;
  TestLog& operator=(const TestLog&) = delete;

  std::FILE* file() const { return file_; }

  // Everything written so far.
  std::string Text() const {
    std::fflush(file_);
    std::rewind(file_);
    std::string s;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, file_)) s.append(buf, n);
    std::fseek(file_, 0, SEEK_END);
    return s;
  }

 private:
  std::FILE* file_;
};

}  // namespace gpuledger::testing
