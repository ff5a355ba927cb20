#include "guard/guard_metrics.h"

#include <fmt/format.h>
#include <httplib.h>

#include <map>

#include "core/build_info.h"
#include "core/listen_address.h"
#include "core/text_safety.h"

namespace gpuledger {

std::string PromLabelValue(std::string_view raw) {
  // Valid UTF-8 first: one invalid byte in one label makes Prometheus reject the whole scrape.
  const std::string v = ValidUtf8(raw);
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

namespace {

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string RenderGuardMetrics(const NodeGuard& guard, const GpuSnapshot* last,
                               const GuardCounters& c, TimeMs now) {
  std::string out;
  Header(&out, "gpuledger_build_info", "gauge", "the version and commit of the running guard");
  out += fmt::format("gpuledger_build_info{{version=\"{}\",commit=\"{}\"}} 1\n", BuildVersion(),
                     BuildCommit());
  if (last) {
    Header(&out, "gpuledger_gpu_utilization_percent", "gauge",
           "GPU utilisation at the last sample");
    for (const GpuReading& g : last->gpus)
      out +=
          fmt::format("gpuledger_gpu_utilization_percent{{gpu=\"{}\"}} {}\n", g.index, g.util_pct);
    Header(&out, "gpuledger_gpu_memory_used_bytes", "gauge", "GPU memory used at the last sample");
    for (const GpuReading& g : last->gpus) {
      if (g.memory_used_mib)
        out += fmt::format("gpuledger_gpu_memory_used_bytes{{gpu=\"{}\"}} {:.0f}\n", g.index,
                           *g.memory_used_mib * 1048576);
    }
    Header(&out, "gpuledger_last_sample_timestamp_seconds", "gauge",
           "when the last sample was taken");
    out += fmt::format("gpuledger_last_sample_timestamp_seconds {:.3f}\n", last->t / 1000.0);
  }
  Header(&out, "gpuledger_workload_gpus", "gauge", "GPUs a workload holds");
  std::string idle, state, memory;
  for (const auto& [id, w] : guard.workloads()) {
    const std::string labels =
        fmt::format("workload=\"{}\",kind=\"{}\",owner=\"{}\"", PromLabelValue(id),
                    WorkloadKindId(w.info.name.kind), PromLabelValue(w.info.owner));
    out += fmt::format("gpuledger_workload_gpus{{{}}} {}\n", labels, w.gpus.size());
    idle += fmt::format("gpuledger_workload_idle_seconds{{{}}} {:.3f}\n", labels,
                        w.IdleSince() ? (now - *w.IdleSince()) / 1000.0 : 0.0);
    state += fmt::format("gpuledger_workload_state{{{},state=\"{}\"}} 1\n", labels,
                         guard.StateOf(w, now));
    if (w.memory_known)
      memory += fmt::format("gpuledger_workload_memory_bytes{{{}}} {:.0f}\n", labels,
                            w.memory_mib * 1048576);
  }
  Header(&out, "gpuledger_workload_idle_seconds", "gauge",
         "how long every GPU of a workload has been below threshold");
  out += idle;
  Header(
      &out, "gpuledger_workload_state", "gauge",
      "a workload's state: active, idle, warned, kept, exempt, stopping, warn_only, left_to_run");
  out += state;
  Header(&out, "gpuledger_workload_memory_bytes", "gauge",
         "GPU memory a workload's processes hold");
  out += memory;
  auto counter = [&](std::string_view name, uint64_t v, std::string_view help) {
    Header(&out, name, "counter", help);
    out += fmt::format("{} {}\n", name, v);
  };
  counter("gpuledger_warnings_total", c.warnings, "warnings sent ahead of a kill or release");
  counter("gpuledger_kills_total", c.kills, "workloads the guard stopped (or would, in dry-run)");
  counter("gpuledger_warn_only_total", c.warn_only,
          "kills due for workloads the guard only warns about");
  counter("gpuledger_exemptions_total", c.exemptions, "kills due for workloads the policy exempts");
  counter("gpuledger_keeps_total", c.keeps, "keeps granted");
  counter("gpuledger_releases_total", c.releases, "machine releases");
  counter("gpuledger_freed_gpus_total", c.freed_gpus,
          "GPUs held by the workloads stopped and the machines released");
  Header(&out, "gpuledger_freed_memory_bytes_total", "counter",
         "GPU memory held by the workloads stopped and the machines released");
  out += fmt::format("gpuledger_freed_memory_bytes_total {:.0f}\n", c.freed_memory_bytes);
  counter("gpuledger_action_failures_total", c.action_failures, "actions that failed");
  counter("gpuledger_reading_errors_total", c.reading_errors, "GPU readings that failed");
  counter("gpuledger_samples_total", c.samples, "samples taken");
  Header(&out, "gpuledger_ledger_queued_writes", "gauge", "ledger writes waiting to be made");
  out += fmt::format("gpuledger_ledger_queued_writes {}\n", c.ledger_queued);
  counter("gpuledger_ledger_dropped_total", c.ledger_dropped,
          "ledger writes dropped: more than a million were waiting");
  counter("gpuledger_ledger_failures_total", c.ledger_failures,
          "ledger writes that failed (retried)");
  counter("gpuledger_ledger_quarantined_total", c.ledger_quarantined,
          "ledger writes the ledger rejected, set aside so the rest go on");
  // Per kind of sink (two Slack sinks add up): what was delivered, failed after every try,
  // dropped (a full queue, or not sent before exit), and tried again.
  std::map<std::string, Notifier::Counts> by_sink;
  for (const Notifier::Counts& n : c.notify) {
    Notifier::Counts& sum = by_sink[n.sink];
    sum.delivered += n.delivered, sum.failed += n.failed, sum.dropped += n.dropped;
    sum.retries += n.retries;
  }
  auto per_sink = [&](std::string_view name, uint64_t Notifier::Counts::*field,
                      std::string_view help) {
    Header(&out, name, "counter", help);
    for (const auto& [sink, n] : by_sink)
      out += fmt::format("{}{{sink=\"{}\"}} {}\n", name, sink, n.*field);
  };
  per_sink("gpuledger_notifications_delivered_total", &Notifier::Counts::delivered,
           "notifications a sink accepted (2xx)");
  per_sink("gpuledger_notification_failures_total", &Notifier::Counts::failed,
           "notifications not delivered after every try");
  per_sink("gpuledger_notifications_dropped_total", &Notifier::Counts::dropped,
           "notifications dropped: too many waiting, or not sent before exit");
  per_sink("gpuledger_notification_retries_total", &Notifier::Counts::retries,
           "tries again after no answer, a 429 or a 5xx");
  return out;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::mutex mu;
  std::string text = "# no sample yet\n";
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen) {
  auto address = ParseListenAddress(listen, "--metrics-listen");
  if (!address) return std::unexpected(address.error());
  const std::string& host = address->host;
  const int port = address->port;
  auto s = std::unique_ptr<MetricsServer>(new MetricsServer());
  s->impl_ = std::make_unique<Impl>();
  Impl* impl = s->impl_.get();
  // Scrapers send no body: anything over 4 KiB is refused unread, and a client that stalls is
  // dropped after 5 s (each connection is served on httplib's pool, never the guard's loop).
  impl->server.set_payload_max_length(4096);
  impl->server.set_read_timeout(5, 0);
  impl->server.set_write_timeout(5, 0);
  impl->server.set_keep_alive_timeout(5);
  // httplib 0.11 caps only bodies that declare a Content-Length: a chunked one is read whole
  // (800 MB sent, 1 GB resident). Anything but a body-less GET or HEAD is answered here, before
  // httplib reads a byte of the body, and the connection is closed.
  impl->server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const bool has_body =
        req.has_header("Transfer-Encoding") ||
        (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
    if ((req.method == "GET" || req.method == "HEAD") && !has_body)
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = has_body ? 413 : 405;
    res.set_header("Connection", "close");
    res.set_content("gpuledger guard: only GET /metrics, with no body\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  impl->server.Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(impl->mu);
    res.set_content(impl->text, "text/plain; version=0.0.4; charset=utf-8");
  });
  impl->server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("gpuledger guard: see /metrics\n", "text/plain");
  });
  if (port == 0) {
    s->port_ = impl->server.bind_to_any_port(host.c_str());
    if (s->port_ <= 0)
      return MakeError(ErrorCode::kIo, "cannot listen on " + listen, "--metrics-listen");
  } else {
    if (!impl->server.bind_to_port(host.c_str(), port))
      return MakeError(ErrorCode::kIo, "cannot listen on " + listen, "--metrics-listen");
    s->port_ = port;
  }
  s->thread_ = std::thread([impl] { impl->server.listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (impl_) impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::Publish(std::string text) {
  std::lock_guard lock(impl_->mu);
  impl_->text = std::move(text);
}

}  // namespace gpuledger
