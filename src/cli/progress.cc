#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

namespace gpuledger::cli {

ProgressLine::ProgressLine(const AuditProgress* progress) : progress_(progress) {
  if (isatty(STDERR_FILENO)) thread_ = std::thread([this] { Loop(); });
}

ProgressLine::~ProgressLine() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
    fmt::print(stderr, "\r\033[K");
  }
}

void ProgressLine::Loop() {
  using namespace std::chrono_literals;
  while (!stop_) {
    std::this_thread::sleep_for(250ms);
    const double done = static_cast<double>(progress_->bytes_read.load()) / 1e6;
    const double total = static_cast<double>(progress_->bytes_total) / 1e6;
    fmt::print(stderr, "\raudit: {:.0f} of {:.0f} MB, {} of {} machines", done, total,
               progress_->machines_done.load(), progress_->machines_total);
    std::fflush(stderr);
  }
}

}  // namespace gpuledger::cli
