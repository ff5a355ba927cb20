// The digest (ledger/digest.h) as Markdown, JSON, and one notification per owner and for the
// fleet.
#pragma once

#include <string>

#include "audit/spend_digest.h"
#include "core/json_writer.h"
#include "ledger/digest.h"
#include "notify/notice.h"

namespace gpuledger {

// What the telemetry adds to a digest (`digest --telemetry|--prometheus`): each team's and
// owner's spend, idle shares and top practices, and the credits' runway (empty without
// --credits).
struct DigestTelemetry {
  SpendDigest spend;
  std::string runway;
};

// The fleet's section, then one per owner (by dollars), then, with telemetry, one per team, as
// Markdown.
std::string DigestMarkdown(const Digest& digest, const DigestTelemetry* telemetry = nullptr);

// {"from", "to", "fleet": {…}, "owners": [{…}]}: each with usd, gpu_hours, idle_gpu_hours,
// previous_usd, previous_gpu_hours, jobs, failed, killed, warnings, kills, releases, warn_only,
// keeps [{job_id, granted_by, at, explanation}], freed [{job_id, killed_at, until, gpus,
// gpu_hours, usd}], freed_gpu_hours, freed_usd, possible_false_kills [job ids]. With telemetry,
// "spend": {"fleet": S, "teams": {NAME: S}, "owners": {NAME: S}, "credits_runway": text|null},
// S = {usd, gpu_hours, previous_usd, idle_usd, idle_share, held_idle_usd (null: unknown),
// held_idle_share, top_practices [{category, practice, usd}]}.
void WriteDigestJson(JsonWriter& w, const Digest& digest,
                     const DigestTelemetry* telemetry = nullptr);

// The message for one owner's section ("owner" of the digest, or its fleet), with what the
// telemetry says of them when given.
Notice DigestNotice(const Digest& digest, const OwnerDigest& section,
                    const DigestTelemetry* telemetry = nullptr);

// The message for one team, from the telemetry.
Notice TeamDigestNotice(const Digest& digest, const std::string& team, const SpendSummary& spend);

}  // namespace gpuledger
