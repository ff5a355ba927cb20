// The backtest for tools (JSON, CSV) and for people (a table); the sweep's trade-off table.
#pragma once

#include <string>
#include <vector>

#include "policy/backtest.h"

namespace gpuledger {

// Schema "gpuledger.backtest/1" (docs/backtest.md).
std::string BacktestToJson(const BacktestResult& result);

// One row per kill decision: job_id,machine,owner,status,rule,at,warn_at,false_kill,gpus,
// gpu_hours_saved,usd_saved
std::string BacktestToCsv(const BacktestResult& result);

// Totals, false kills first, the largest savings, releases and input problems.
std::string BacktestToTable(const BacktestResult& result, int top);

// One backtest per value of a swept policy key.
struct SweepRow {
  std::string value;
  BacktestResult result;
};
std::string SweepToTable(const std::string& key, const std::vector<SweepRow>& rows);
std::string SweepToJson(const std::string& key, const std::vector<SweepRow>& rows);
std::string SweepToCsv(const std::string& key, const std::vector<SweepRow>& rows);

}  // namespace gpuledger
