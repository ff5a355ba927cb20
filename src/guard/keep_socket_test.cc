// The keep protocol and its socket: requests, the peer the kernel names, and peers that try to
// hold the guard up.
#include "guard/keep_socket.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "guard_test_util.h"

namespace gpuledger {
namespace {

namespace fs = std::filesystem;

TEST(KeepSocket, RequestsRoundTripAndThePeerIsTheKernelsWord) {
  auto keep = ParseKeepRequest(KeepRequestJson({"keep", "pg:1", "eval", 7200000}));
  ASSERT_TRUE(keep);
  EXPECT_EQ(keep->workload, "pg:1");
  EXPECT_EQ(keep->duration_ms, 7200000);
  EXPECT_FALSE(ParseKeepRequest(R"({"op":"keep","workload":"pg:1"})"));
  EXPECT_FALSE(ParseKeepRequest(R"({"op":"delete"})"));
  EXPECT_FALSE(ParseKeepRequest("not json"));
  const std::string path = GuardTestDir("sock") + "/run/guard.sock";
  auto socket = KeepSocket::Listen(path);
  ASSERT_TRUE(socket) << socket.error().ToString();
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_write, fs::perms::others_write);
  EXPECT_FALSE(KeepSocket::Listen(path));  // a live guard there already
  std::thread client([&] {
    auto answer = AskGuard(path, R"({"op":"list"})");
    ASSERT_TRUE(answer);
    EXPECT_EQ(*answer, "uid " + std::to_string(getuid()) + " list");
  });
  for (int i = 0; i < 100; ++i) {
    bool served = false;
    (*socket)->Poll(10, [&](const Result<KeepRequest>& r, const Peer& peer) {
      served = true;
      return "uid " + std::to_string(peer.uid) + " " + (r ? r->op : "?");
    });
    if (served) break;
  }
  client.join();
  socket->reset();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(AskGuard(path, "{}"));
}

TEST(KeepSocket, AGroupSocketIsThatGroupsOnly) {
  const std::string dir = GuardTestDir("sock-group");
  // The group of this process: it exists wherever the test runs, as root or not.
  const gid_t gid = getgid();
  const group* gr = getgrgid(gid);
  ASSERT_NE(gr, nullptr);
  const std::string path = dir + "/guard.sock";
  auto socket = KeepSocket::Listen(path, gr->gr_name);
  ASSERT_TRUE(socket) << socket.error().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, gid);
  socket->reset();
  auto unknown = KeepSocket::Listen(dir + "/other.sock", "no-such-group-gpuledger");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUsage);
  EXPECT_NE(unknown.error().ToString().find("no such group"), std::string::npos);
}

// A client connection to "path" that has sent "bytes" and then goes quiet.
int Connect(const std::string& path, const std::string& bytes) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return -1;
  if (!bytes.empty()) (void)!write(fd, bytes.data(), bytes.size());
  return fd;
}

TEST(KeepSocket, SlowSilentOrGreedyPeersNeverHoldTheGuardUp) {
  const std::string path = GuardTestDir("sock_dos") + "/guard.sock";
  auto socket = KeepSocket::Listen(path);
  ASSERT_TRUE(socket);
  auto handler = [](const Result<KeepRequest>& r, const Peer&) {
    return std::string(r ? "ok " + r->op : "bad");
  };
  // Half-sent requests, one dripping, up to the per-user cap: each Poll returns on time.
  std::vector<int> held;
  held.push_back(Connect(path, "{\"op\":"));
  for (size_t i = 1; i < KeepSocket::kMaxPerUid; ++i) held.push_back(Connect(path, ""));
  for (int round = 0; round < 20; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    (*socket)->Poll(20, handler);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    (void)!write(held[0], " ", 1);  // a byte now and then: never a whole line
  }
  EXPECT_EQ((*socket)->connections(), KeepSocket::kMaxPerUid);
  // Past the deadline every one of them is closed; nothing was answered.
  std::this_thread::sleep_for(std::chrono::milliseconds(KeepSocket::kDeadlineMs + 50));
  (*socket)->Poll(0, handler);
  EXPECT_EQ((*socket)->connections(), 0u);
  // A request larger than the cap is dropped, not buffered.
  const int big = Connect(path, std::string(KeepSocket::kMaxRequest + 10, 'x'));
  for (int i = 0; i < 5; ++i) (*socket)->Poll(20, handler);
  EXPECT_EQ((*socket)->connections(), 0u);
  // And a well-behaved client is still answered.
  std::thread client(
      [&] { EXPECT_EQ(AskGuard(path, R"({"op":"list"})").value_or(""), "ok list"); });
  for (int i = 0; i < 50; ++i) (*socket)->Poll(10, handler);
  client.join();
  for (int fd : held) close(fd);
  close(big);
  // The reason is capped and kept as valid UTF-8.
  EXPECT_FALSE(
      ParseKeepRequest(KeepRequestJson({"keep", "pg:1", std::string(kMaxReason + 1, 'r'), 1})));
  auto odd =
      ParseKeepRequest(R"({"op":"keep","workload":"pg:1","duration_ms":1,"reason":"a\nkill: x"})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->reason, "a\nkill: x");  // kept as said; every log line escapes it
}

TEST(KeepSocket, EachUserIsRateLimited) {
  const std::string path = GuardTestDir("sock_rate") + "/guard.sock";
  auto socket = KeepSocket::Listen(path);
  ASSERT_TRUE(socket);
  int answered = 0, limited = 0;
  std::atomic<bool> stop = false;
  std::thread server([&] {
    while (!stop)
      (*socket)->Poll(5, [](const Result<KeepRequest>&, const Peer&) { return std::string("ok"); });
  });
  for (int i = 0; i < KeepSocket::kRatePerUid + 5; ++i) {
    const std::string a = AskGuard(path, R"({"op":"list"})").value_or("");
    if (a == "ok") ++answered;
    if (a.find("too many requests") != std::string::npos) ++limited;
  }
  stop = true;
  server.join();
  if (getuid() == 0) {  // root is never limited
    EXPECT_EQ(answered, KeepSocket::kRatePerUid + 5);
  } else {
    EXPECT_EQ(answered, KeepSocket::kRatePerUid);
    EXPECT_EQ(limited, 5);
  }
}

}  // namespace
}  // namespace gpuledger
