// Converts a folder of nvidia-smi logs (as make_smi_fleet writes them: one file per machine,
// `timestamp, index, …, utilization.gpu [%], …, memory.used [MiB], …`) into the exported
// formats, sample for sample, for bench/formats_bench.sh:
//   OUT/long.csv                    time,machine,gpu,util,memory (ISO times, UTC)
//   OUT/dcgm/MACHINE.prom           DCGM exporter text with timestamps, a scrape block per poll
//   OUT/prometheus/YYYY-MM-DD.json  a query_range answer a day, on one line (as curl saves it)
// Usage: convert_fleet SMI_DIR OUT_DIR
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Sample {
  long long t_ms;
  int gpu;
  int util;
  int memory;
};

long long ParseSmiTime(const std::string& s) {  // "2025/01/01 00:00:00.034", UTC
  std::tm tm{};
  tm.tm_year = std::atoi(s.substr(0, 4).c_str()) - 1900;
  tm.tm_mon = std::atoi(s.substr(5, 2).c_str()) - 1;
  tm.tm_mday = std::atoi(s.substr(8, 2).c_str());
  tm.tm_hour = std::atoi(s.substr(11, 2).c_str());
  tm.tm_min = std::atoi(s.substr(14, 2).c_str());
  tm.tm_sec = std::atoi(s.substr(17, 2).c_str());
  return static_cast<long long>(timegm(&tm)) * 1000 + std::atoi(s.substr(20, 3).c_str());
}

std::string IsoTime(long long t_ms) {
  const std::time_t secs = t_ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(t_ms % 1000));
  return buf;
}

std::string Day(long long t_ms) { return IsoTime(t_ms).substr(0, 10); }

// One machine's samples, in file order.
std::vector<Sample> ReadSmi(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<Sample> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t comma; (comma = line.find(", ", start)) != std::string::npos; start = comma + 2)
      f.push_back(line.substr(start, comma - start));
    f.push_back(line.substr(start));
    if (f.size() < 7) continue;
    out.push_back({ParseSmiTime(f[0]), std::atoi(f[1].c_str()), std::atoi(f[4].c_str()),
                   std::atoi(f[6].c_str())});
  }
  return out;
}

std::string Labels(const std::string& machine, int gpu) {
  return "gpu=\"" + std::to_string(gpu) + "\",UUID=\"GPU-" + machine + "-" + std::to_string(gpu) +
         "\",device=\"nvidia" + std::to_string(gpu) +
         "\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"" + machine + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: convert_fleet SMI_DIR OUT_DIR\n");
    return 2;
  }
  const fs::path out_dir = argv[2];
  fs::create_directories(out_dir / "dcgm");
  fs::create_directories(out_dir / "prometheus");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[1]))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  std::ofstream long_csv(out_dir / "long.csv");
  long_csv << "time,machine,gpu,util,memory\n";
  // day -> series text -> "[t,\"v\"]" values, for the query_range files.
  std::map<std::string, std::map<std::string, std::string>> days;
  for (const fs::path& file : files) {
    const std::string machine = file.stem().string();
    const std::vector<Sample> samples = ReadSmi(file);
    std::ofstream dcgm(out_dir / "dcgm" / (machine + ".prom"));
    // A scrape block per poll: every GPU's utilisation, then every GPU's memory.
    for (size_t i = 0; i < samples.size();) {
      size_t j = i;
      while (j < samples.size() && samples[j].t_ms / 1000 == samples[i].t_ms / 1000) ++j;
      const long long scrape_ms = samples[i].t_ms;
      dcgm << "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
              "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n";
      for (size_t k = i; k < j; ++k)
        dcgm << "DCGM_FI_DEV_GPU_UTIL{" << Labels(machine, samples[k].gpu) << "} "
             << samples[k].util << ' ' << scrape_ms << '\n';
      dcgm << "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).\n"
              "# TYPE DCGM_FI_DEV_FB_USED gauge\n";
      for (size_t k = i; k < j; ++k)
        dcgm << "DCGM_FI_DEV_FB_USED{" << Labels(machine, samples[k].gpu) << "} "
             << samples[k].memory << ' ' << scrape_ms << '\n';
      for (size_t k = i; k < j; ++k) {
        const Sample& s = samples[k];
        long_csv << IsoTime(scrape_ms) << ',' << machine << ',' << s.gpu << ',' << s.util << ','
                 << s.memory << '\n';
        char point[64];
        std::snprintf(point, sizeof point, "[%lld.%03lld,\"%d\"]", scrape_ms / 1000,
                      scrape_ms % 1000, s.util);
        const std::string series =
            "\"Hostname\":\"" + machine + "\",\"gpu\":\"" + std::to_string(s.gpu) + "\"";
        std::string& util = days[Day(scrape_ms)]["DCGM_FI_DEV_GPU_UTIL\"," + series];
        if (!util.empty()) util += ',';
        util += point;
        std::snprintf(point, sizeof point, "[%lld.%03lld,\"%d\"]", scrape_ms / 1000,
                      scrape_ms % 1000, s.memory);
        std::string& mem = days[Day(scrape_ms)]["DCGM_FI_DEV_FB_USED\"," + series];
        if (!mem.empty()) mem += ',';
        mem += point;
      }
      i = j;
    }
  }
  for (const auto& [day, series] : days) {
    std::ofstream json(out_dir / "prometheus" / (day + ".json"));
    json << R"({"status":"success","data":{"resultType":"matrix","result":[)";
    bool first = true;
    for (const auto& [labels, values] : series) {
      json << (first ? "" : ",") << R"({"metric":{"__name__":")" << labels << R"(},"values":[)"
           << values << "]}";
      first = false;
    }
    json << "]}}";
  }
  return 0;
}
