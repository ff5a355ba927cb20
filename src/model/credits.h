// Credits: the top-ups a team buys GPU time with (DESIGN.md, "Credits: who burned the last
// batch"), and the bill's charges that are not GPU time, with their times, which the batches
// also pay for.
#pragma once

#include <cstdint>
#include <string>

#include "core/time.h"

namespace gpuledger {

struct CreditBatch {
  std::string label;
  TimeMs date = 0;  // when it was bought
  double amount_usd = 0;
  uint64_t order = 0;  // rank in its source, breaking ties of date
};

// A charge of the bill that is not GPU time (storage, network, tax, CPU-only instances), spread
// evenly over its charge period. Credits and purchases are not charges: they are batches. A
// negative one is a refund inside usage, netted against the others (audit/credits.cc).
struct TimedCharge {
  TimeMs start = 0, end = 0;
  double usd = 0;
  std::string category;  // "ServiceCategory/ChargeCategory"
};

}  // namespace gpuledger
