#include "audit/audit_result.h"

namespace gpuledger {

Spend Totals::Total() const {
  Spend s;
  for (const Spend& c : categories) s.Add(c);
  return s;
}

Spend Totals::Waste() const {
  Spend s;
  for (Category c : kAllCategories) {
    if (IsWaste(c)) s.Add(categories[static_cast<int>(c)]);
  }
  return s;
}

void Totals::Add(const Totals& o) {
  for (int i = 0; i < kCategoryCount; ++i) categories[i].Add(o.categories[i]);
  below_threshold.Add(o.below_threshold);
  unattributed.Add(o.unattributed);
  unowned.Add(o.unowned);
  no_commit.Add(o.no_commit);
  in_jobs.Add(o.in_jobs);
  held_idle.Add(o.held_idle);
  for (int i = 0; i < kCategoryCount; ++i) held_idle_by_category[i].Add(o.held_idle_by_category[i]);
}

int64_t AuditResult::MachinesNeverUsed() const {
  int64_t n = 0;
  for (const MachineResult& m : machines) n += m.never_used;
  return n;
}

TelemetryCoverage AuditResult::Coverage() const {
  TelemetryCoverage c;
  for (const MachineResult& m : machines) {
    const Spend total = m.totals.Total();
    if (m.samples == 0) {
      ++c.machines_without, c.without.Add(total);
      continue;
    }
    ++c.machines_with_telemetry;
    if (!m.never_used) continue;
    if (m.most_gpu_samples == 1) {
      ++c.idle_in_one_sample, c.idle_in_one_sample_spend.Add(total);
    } else {
      ++c.never_used, c.never_used_spend.Add(total);
    }
  }
  return c;
}

const std::string& UnattributedName() {
  static const std::string name = kUnattributed;
  return name;
}

const std::string& NoneName() {
  static const std::string name = kNoTeam;
  return name;
}

}  // namespace gpuledger
