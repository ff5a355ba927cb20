// gpuledger reviews fetch: GitHub history saved as raw API pages (placeholder until the fetcher
// lands).
#include "cli/commands.h"
namespace gpuledger::cli {
void AddFetchVerb(CLI::App*, Outcome*) {}
}  // namespace gpuledger::cli
