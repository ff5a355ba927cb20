// The digest (ledger/digest.h) as Markdown, JSON, and one notification per owner and for the
// fleet.
#pragma once

#include <string>

#include "core/json_writer.h"
#include "ledger/digest.h"
#include "notify/notice.h"

namespace gpuledger {

// The fleet's section, then one per owner (by dollars), as Markdown.
std::string DigestMarkdown(const Digest& digest);

// {"from", "to", "fleet": {…}, "owners": [{…}]}: each with usd, gpu_hours, idle_gpu_hours,
// previous_usd, previous_gpu_hours, jobs, failed, killed, warnings, kills, releases, warn_only,
// keeps [{job_id, granted_by, at, explanation}], freed [{job_id, killed_at, until, gpus,
// gpu_hours, usd}], freed_gpu_hours, freed_usd, possible_false_kills [job ids].
void WriteDigestJson(JsonWriter& w, const Digest& digest);

// The message for one owner's section ("owner" of the digest, or its fleet).
Notice DigestNotice(const Digest& digest, const OwnerDigest& section);

}  // namespace gpuledger
