#include "sources/telemetry_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

#include "core/line_reader.h"
#include "sources/nvidia_smi_csv.h"

namespace gpuledger {

namespace fs = std::filesystem;

namespace {

// What a CSV in a telemetry directory is when its header says it is another of the audit's
// tables (a bill, jobs, sacct output, an inventory, credits), with the flag that reads it;
// nullopt for anything else (telemetry, or a file the readers will reject row by row).
std::optional<std::string> OtherTableIn(const fs::path& path) {
  std::ifstream in(path);
  std::string header;
  if (!in || !std::getline(in, header)) return std::nullopt;
  std::transform(header.begin(), header.end(), header.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto has = [&](std::string_view word) { return header.find(word) != std::string::npos; };
  if (has("utilization.gpu") || has("timestamp")) return std::nullopt;
  if (has("chargeperiodstart")) return "a FOCUS bill: give it as --billing";
  if (header.starts_with("jobid|"))
    return "sacct output: give it as --jobs with --jobs-format sacct";
  if (has("job_id")) return "a jobs table: give it as --jobs";
  if (has("gpu_count") && has("hourly_usd")) return "an inventory: give it as --inventory";
  if (has("amount") && (has("date") || has("bought") || has("purchased"))) {
    return "credits: give them as --credits";
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<TelemetryFile>> ListTelemetryFiles(const std::vector<std::string>& paths,
                                                      const std::string& machine_override,
                                                      const std::vector<std::string>& extensions,
                                                      std::vector<std::string>* skipped) {
  std::vector<TelemetryFile> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return MakeError(ErrorCode::kIo, "no such file or directory", path);
    }
    if (fs::is_directory(st)) {
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (!it->is_regular_file() ||
            std::find(extensions.begin(), extensions.end(), ext) == extensions.end()) {
          if (skipped != nullptr) {
            std::string why =
                it->is_directory() ? "a directory (not searched)" : "not " + extensions.front();
            for (size_t e = 1; e < extensions.size(); ++e) why += "/" + extensions[e];
            skipped->push_back(it->path().string() + " (" + why + ")");
          }
          continue;
        }
        if (ext == ".csv") {
          if (auto other = OtherTableIn(it->path())) {
            if (skipped != nullptr) skipped->push_back(it->path().string() + " (" + *other + ")");
            continue;
          }
        }
        files.push_back({it->path().string(), it->path().stem().string(), it->file_size()});
      }
      if (ec) return MakeError(ErrorCode::kIo, "cannot list directory: " + ec.message(), path);
      continue;
    }
    const fs::path p(path);
    std::string machine = machine_override.empty() ? p.stem().string() : machine_override;
    files.push_back({path, std::move(machine), fs::file_size(p, ec)});
  }
  std::sort(files.begin(), files.end(),
            [](const TelemetryFile& a, const TelemetryFile& b) { return a.path < b.path; });
  files.erase(
      std::unique(files.begin(), files.end(),
                  [](const TelemetryFile& a, const TelemetryFile& b) { return a.path == b.path; }),
      files.end());
  return files;
}

std::vector<TelemetrySource> NvidiaSmiSources(const std::vector<TelemetryFile>& files,
                                              const TimeZone* zone) {
  std::map<std::string, TelemetrySource> by_machine;
  for (uint32_t i = 0; i < files.size(); ++i) {
    TelemetrySource& src = by_machine[files[i].machine];
    src.machine = files[i].machine;
    src.bytes += files[i].bytes;
    src.files.push_back(files[i].path);
    src.file_indices.push_back(i);
  }
  std::vector<TelemetrySource> sources;
  for (auto& [machine, src] : by_machine) {
    src.feed = [files = src.files, indices = src.file_indices, zone](
                   SampleSink* sink, SourceStats* stats,
                   std::atomic<uint64_t>* bytes_read) -> Result<bool> {
      for (size_t f = 0; f < files.size(); ++f) {
        NvidiaSmiReader reader(files[f], indices[f], zone, sink, stats);
        bool in_order = true;
        auto r = ForEachLine(
            files[f],
            [&](std::string_view line, uint64_t no) { return in_order = reader.Line(line, no); },
            [&](uint64_t n) { bytes_read->fetch_add(n, std::memory_order_relaxed); });
        if (!r) return std::unexpected(r.error());
        if (!in_order) return false;
      }
      return true;
    };
    sources.push_back(std::move(src));
  }
  return sources;
}

}  // namespace gpuledger
