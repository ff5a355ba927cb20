// What the guard's unit tests share: a fresh folder per test, files written into it, and polling
// with a deadline instead of sleeping.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace gpuledger {

// An empty folder for "name", unique to this process (ctest runs tests in parallel).
inline std::string GuardTestDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/guard_io_" + name + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes "text" to "path", making its folders.
inline void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Polls "done" every 10 ms until it holds or "timeout_ms" passed; its last answer.
template <typename Fn>
bool Eventually(Fn done, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace gpuledger
