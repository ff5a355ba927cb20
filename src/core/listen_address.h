// HOST:PORT as the servers take it (--metrics-listen, serve's --listen): an IPv4 address, a
// name, or an [IPv6] address, and a port (0: any free one).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace gpuledger {

struct ListenAddress {
  std::string host;  // without IPv6's brackets
  int port = 0;
};

// kUsage naming "flag" when "listen" is not HOST:PORT with a port in 0–65535.
Result<ListenAddress> ParseListenAddress(std::string_view listen, std::string_view flag);

}  // namespace gpuledger
