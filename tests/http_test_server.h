// A small HTTP/1.1 server on 127.0.0.1 for tests: each request is answered by a handler, one at
// a time, with "Connection: close". Records what it was asked.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gpuledger::testing {

struct TestRequest {
  std::string target;                          // path and query, e.g. /repos/o/r/pulls?state=all
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct TestResponse {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

class HttpTestServer {
 public:
  using Handler = std::function<TestResponse(const TestRequest&)>;

  explicit HttpTestServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }

  ~HttpTestServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<TestRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      TestRequest req = Parse(in);
      const size_t head_end = in.find("\r\n\r\n");
      req.body = head_end == std::string::npos ? "" : in.substr(head_end + 4);
      const size_t want = req.headers.count("content-length")
                              ? static_cast<size_t>(std::stoul(req.headers["content-length"]))
                              : 0;
      while (req.body.size() < want) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.body.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      const TestResponse res = handler_(req);
      std::string out = "HTTP/1.1 " + std::to_string(res.status) + " X\r\n";
      for (const auto& [k, v] : res.headers) out += k + ": " + v + "\r\n";
      out += "Content-Length: " + std::to_string(res.body.size()) + "\r\nConnection: close\r\n\r\n";
      out += res.body;
      send(c, out.data(), out.size(), MSG_NOSIGNAL);
      close(c);
    }
  }

  static TestRequest Parse(const std::string& in) {
    TestRequest r;
    const size_t sp1 = in.find(' '), sp2 = in.find(' ', sp1 + 1);
    if (sp1 != std::string::npos && sp2 != std::string::npos)
      r.target = in.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = in.find("\r\n");
    while (pos != std::string::npos) {
      const size_t next = in.find("\r\n", pos + 2);
      const std::string line =
          in.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      pos = next;
    }
    return r;
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<TestRequest> requests_;
};

}  // namespace gpuledger::testing
