// The ledger in one SQLite file (WAL mode): the embedded default. The schema version is
// PRAGMA user_version.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace gpuledger {

// Opens (creating it and its folder, 0700, the file 0600) and migrates the ledger at "path".
Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path);

}  // namespace gpuledger
