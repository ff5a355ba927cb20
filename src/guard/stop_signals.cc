#include "guard/stop_signals.h"

namespace gpuledger {
namespace {

volatile sig_atomic_t g_stop_signal = 0;  // set by the handler only

extern "C" void OnStopSignal(int sig) { g_stop_signal = sig; }

}  // namespace

StopSignals::StopSignals() {
  g_stop_signal = 0;
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &sa, &old_[i]);
}

StopSignals::~StopSignals() {
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

int StopSignals::Pending() const { return g_stop_signal; }

}  // namespace gpuledger
