#include "guard/guard_state.h"

#include <simdjson.h>

#include <filesystem>
#include <fstream>

#include "core/json_writer.h"
#include "core/line_reader.h"

namespace gpuledger {

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string GuardStateJson(const std::vector<SavedWorkload>& saved, const std::string& boot_id) {
  JsonWriter w(true);
  w.BeginObject().Key("version").Int(1).Key("boot_id").String(boot_id);
  w.Key("workloads").BeginArray();
  for (const SavedWorkload& s : saved) {
    w.BeginObject().Key("id").String(s.id);
    w.Key("processes").BeginArray();
    for (const ProcessKey& k : s.processes) w.BeginArray().Int(k.pid).Int(k.start_ticks).EndArray();
    w.EndArray();
    w.Key("first_active_ms");
    if (s.first_active)
      w.Int(*s.first_active);
    else
      w.Null();
    w.Key("warnings").Int(s.warnings);
    w.Key("first_seen_ms").Int(s.first_seen).Key("last_seen_ms").Int(s.last_seen);
    w.Key("gpu_ms").Number(s.gpu_ms, 0).Key("idle_gpu_ms").Number(s.idle_gpu_ms, 0);
    w.Key("owner").String(s.owner).Key("uid").Int(s.uid).Key("command").String(s.command);
    w.Key("gpus").BeginArray();
    for (int g : s.gpus) w.Int(g);
    w.EndArray();
    w.Key("keep");
    if (s.keep) {
      w.BeginObject()
          .Key("granted_at_ms")
          .Int(s.keep->granted_at)
          .Key("until_ms")
          .Int(s.keep->until);
      w.Key("who").String(s.keep->who).Key("reason").String(s.keep->reason).EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

Result<std::vector<SavedWorkload>> ParseGuardState(std::string_view json,
                                                   const std::string& boot_id) {
  using namespace simdjson;
  dom::parser parser;
  dom::element doc;
  auto bad = [](std::string what) { return MakeError(ErrorCode::kParse, "guard state: " + what); };
  if (parser.parse(padded_string(json)).get(doc) != SUCCESS) return bad("not JSON");
  std::string_view boot;
  if (doc["boot_id"].get(boot) != SUCCESS) return bad("no boot_id");
  std::vector<SavedWorkload> out;
  if (boot != boot_id) return out;  // another boot: every pid is another process now
  dom::array workloads;
  if (doc["workloads"].get(workloads) != SUCCESS) return bad("no workloads");
  for (dom::element e : workloads) {
    SavedWorkload s;
    std::string_view id;
    if (e["id"].get(id) != SUCCESS) return bad("a workload without id");
    s.id = id;
    dom::array procs;
    if (e["processes"].get(procs) == SUCCESS) {
      for (dom::element p : procs) {
        int64_t pid = 0, start = 0;
        if (p.at(0).get(pid) == SUCCESS && p.at(1).get(start) == SUCCESS)
          s.processes.insert({pid, start});
      }
    }
    int64_t v = 0;
    if (e["first_active_ms"].get(v) == SUCCESS) s.first_active = v;
    if (e["warnings"].get(v) == SUCCESS) s.warnings = static_cast<int>(v);
    if (e["first_seen_ms"].get(v) == SUCCESS) s.first_seen = v;
    if (e["last_seen_ms"].get(v) == SUCCESS) s.last_seen = v;
    if (e["uid"].get(v) == SUCCESS) s.uid = static_cast<uint32_t>(v);
    double ms = 0;
    if (e["gpu_ms"].get(ms) == SUCCESS) s.gpu_ms = ms;
    if (e["idle_gpu_ms"].get(ms) == SUCCESS) s.idle_gpu_ms = ms;
    std::string_view text;
    if (e["owner"].get(text) == SUCCESS) s.owner = text;
    if (e["command"].get(text) == SUCCESS) s.command = text;
    dom::array gpus;
    if (e["gpus"].get(gpus) == SUCCESS) {
      for (dom::element g : gpus) {
        if (g.get(v) == SUCCESS) s.gpus.insert(static_cast<int>(v));
      }
    }
    dom::element keep;
    if (e["keep"].get(keep) == SUCCESS && keep.is_object()) {
      KeepGrant g;
      g.workload = s.id;
      std::string_view who, reason;
      if (keep["granted_at_ms"].get(g.granted_at) != SUCCESS ||
          keep["until_ms"].get(g.until) != SUCCESS)
        return bad("a keep without its times");
      if (keep["who"].get(who) == SUCCESS) g.who = who;
      if (keep["reason"].get(reason) == SUCCESS) g.reason = reason;
      s.keep = g;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<void> SaveGuardState(const std::string& path, const std::vector<SavedWorkload>& saved,
                            std::string* last_written) {
  static const std::string kBootId = BootId();
  std::string json = GuardStateJson(saved, kBootId);
  if (last_written && *last_written == json) return {};
  if (auto r = WriteFileAtomically(path, json + "\n"); !r) return r;
  if (last_written) *last_written = std::move(json);
  return {};
}

Result<std::vector<SavedWorkload>> LoadGuardState(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<SavedWorkload>{};
  auto text = ReadWholeFile(path);
  if (!text) return std::unexpected(text.error());
  auto parsed = ParseGuardState(*text, BootId());
  if (!parsed) return MakeError(ErrorCode::kParse, parsed.error().message, path);
  return parsed;
}

}  // namespace gpuledger
