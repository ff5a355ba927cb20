#include "core/listen_address.h"

#include <charconv>

namespace gpuledger {

Result<ListenAddress> ParseListenAddress(std::string_view listen, std::string_view flag) {
  const size_t colon = listen.rfind(':');
  ListenAddress a;
  a.port = -1;
  if (colon != std::string_view::npos) {
    const char* p = listen.data() + colon + 1;
    auto [end, ec] = std::from_chars(p, listen.data() + listen.size(), a.port);
    if (ec != std::errc() || end != listen.data() + listen.size()) a.port = -1;
  }
  a.host = colon == std::string_view::npos ? "" : std::string(listen.substr(0, colon));
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
    a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty() || a.port < 0 || a.port > 65535)
    return MakeError(ErrorCode::kUsage, "must be HOST:PORT, e.g. 127.0.0.1:9400",
                     std::string(flag));
  return a;
}

}  // namespace gpuledger
