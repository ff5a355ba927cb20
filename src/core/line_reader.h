// Reads a file line by line in large blocks, without a per-line allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gpuledger {

// Calls on_line(line, line_number) for each line of the file at "path" (1-based numbers,
// without the '\n'; a trailing '\r' is kept). on_line returns false to stop early.
// on_bytes, when set, is told how many bytes each block added (for progress reports).
// Fails with kIo naming the file when it cannot be opened or read, and with kParse naming it and
// what it is when it is compressed (gzip, zstd, xz, bzip2, zip) or UTF-16 text.
Result<void> ForEachLine(const std::string& path,
                         const std::function<bool(std::string_view, uint64_t)>& on_line,
                         const std::function<void(uint64_t)>& on_bytes = {});

// Same over text in memory.
void ForEachLineIn(std::string_view text,
                   const std::function<bool(std::string_view, uint64_t)>& on_line);

// Calls on_block(bytes) for each block of the file in turn (4 MiB at most; lines may span
// blocks): a file of any size and line length read in bounded memory. Fails as ForEachLine.
Result<void> ForEachBlock(const std::string& path,
                          const std::function<void(std::string_view)>& on_block);
// The same over bytes [from, to) of the file only ("to" past its end: to its end). The UTF-8
// check is made only on a range from the start.
Result<void> ForEachBlockIn(const std::string& path, uint64_t from, uint64_t to,
                            const std::function<void(std::string_view)>& on_block);

// The whole file, byte for byte, whatever its line lengths (a one-line JSON answer of any size).
// Fails with kIo naming the file, or kParse when it is compressed or UTF-16 (as ForEachLine).
Result<std::string> ReadWholeFile(const std::string& path);

// Writes "text" to "path" through "path.tmp" and a rename, so readers never see half a file.
// Fails with kIo naming the file.
Result<void> WriteFileAtomically(const std::string& path, std::string_view text);

}  // namespace gpuledger
