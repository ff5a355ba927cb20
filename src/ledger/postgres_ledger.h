// The ledger in a PostgreSQL database (libpq): the shared store of a fleet. The schema version
// is the one row of table gpuledger_schema; migrations run under an advisory lock, so many
// nodes opening one new database at once create the tables once.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace gpuledger {

// Connects to "url" (a libpq connection URI, postgresql://user@host:port/db; a password is
// better left to PGPASSWORD or ~/.pgpass). "create": make the tables when there are none;
// otherwise a database without them is a kIo error. A lost connection is made again once per
// statement; every write is idempotent, so a write retried after one is safe.
Result<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, bool create);

}  // namespace gpuledger
