#include "core/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

namespace gpuledger {
namespace {

constexpr size_t kBlockBytes = 4 << 20;

Error IoError(const std::string& path, const char* what) {
  return Error{ErrorCode::kIo, std::string(what) + ": " + std::strerror(errno), path};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// What a file that is not text in UTF-8 (or ASCII) is, from its first bytes, with how to make
// it readable; nullopt for text. Checked once per file, so a compressed log or a UTF-16 export
// (Windows' default) is named as such rather than read as rows of garbage.
std::optional<std::string> NotUtf8Text(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.starts_with(magic); };
  using namespace std::string_view_literals;
  if (starts("\x1f\x8b"sv)) return "is gzip-compressed: decompress it first (gunzip -k FILE)";
  if (starts("\x28\xb5\x2f\xfd"sv)) return "is zstd-compressed: decompress it first (zstd -d FILE)";
  if (starts("\xfd\x37\x7a\x58\x5a\x00"sv))
    return "is xz-compressed: decompress it first (xz -dk FILE)";
  if (starts("BZh"sv) && head.size() > 3 && head[3] >= '1' && head[3] <= '9') {
    return "is bzip2-compressed: decompress it first (bunzip2 -k FILE)";
  }
  if (starts("PK\x03\x04"sv)) return "is a zip archive: extract it first (unzip FILE)";
  const bool bom16 = starts("\xff\xfe"sv) || starts("\xfe\xff"sv);
  const bool nul_between =
      head.size() >= 4 && ((head[1] == '\0' && head[3] == '\0' && head[0] != '\0') ||
                           (head[0] == '\0' && head[2] == '\0' && head[1] != '\0'));
  if (bom16 || nul_between) {
    return "is UTF-16 text: convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8 FILE > OUT)";
  }
  return std::nullopt;
}

}  // namespace

Result<void> ForEachLine(const std::string& path,
                         const std::function<bool(std::string_view, uint64_t)>& on_line,
                         const std::function<void(uint64_t)>& on_bytes) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(IoError(path, "cannot open"));
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<char[]> buf(new char[kBlockBytes]);
  size_t kept = 0;  // bytes of an unfinished line carried to the front of buf
  uint64_t line_no = 0;
  while (true) {
    if (kept == kBlockBytes) {
      errno = EOVERFLOW;
      return std::unexpected(IoError(path, "line longer than 4 MiB"));
    }
    const ssize_t n = read(fd.get(), buf.get() + kept, kBlockBytes - kept);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(IoError(path, "cannot read"));
    }
    if (on_bytes && n > 0) on_bytes(static_cast<uint64_t>(n));
    const size_t filled = kept + static_cast<size_t>(n);
    if (line_no == 0 && kept == 0) {
      if (auto what = NotUtf8Text(std::string_view(buf.get(), filled))) {
        return std::unexpected(Error{ErrorCode::kParse, "not UTF-8 text: the file " + *what, path});
      }
    }
    const char* begin = buf.get();
    const char* end = begin + filled;
    const char* line = begin;
    while (const char* nl = static_cast<const char*>(std::memchr(line, '\n', end - line))) {
      if (!on_line(std::string_view(line, nl - line), ++line_no)) return {};
      line = nl + 1;
    }
    kept = static_cast<size_t>(end - line);
    if (n == 0) {
      if (kept > 0) on_line(std::string_view(line, kept), ++line_no);
      return {};
    }
    std::memmove(buf.get(), line, kept);
  }
}

void ForEachLineIn(std::string_view text,
                   const std::function<bool(std::string_view, uint64_t)>& on_line) {
  uint64_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (!on_line(text.substr(0, nl), ++line_no)) return;
    if (nl == std::string_view::npos) return;
    text.remove_prefix(nl + 1);
  }
}

Result<void> ForEachBlock(const std::string& path,
                          const std::function<void(std::string_view)>& on_block) {
  return ForEachBlockIn(path, 0, UINT64_MAX, on_block);
}

Result<void> ForEachBlockIn(const std::string& path, uint64_t from, uint64_t to,
                            const std::function<void(std::string_view)>& on_block) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(IoError(path, "cannot open"));
  if (from > 0 && lseek(fd.get(), static_cast<off_t>(from), SEEK_SET) < 0) {
    return std::unexpected(IoError(path, "cannot seek"));
  }
  std::unique_ptr<char[]> buf(new char[kBlockBytes]);
  for (uint64_t at = from; at < to;) {  // read(), not pread(): a pipe is read from its start
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kBlockBytes, to - at));
    const ssize_t n = read(fd.get(), buf.get(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(IoError(path, "cannot read"));
    }
    if (n == 0) return {};
    const std::string_view block(buf.get(), static_cast<size_t>(n));
    if (at == 0) {
      if (auto what = NotUtf8Text(block)) {
        return std::unexpected(Error{ErrorCode::kParse, "not UTF-8 text: the file " + *what, path});
      }
    }
    at += static_cast<uint64_t>(n);
    on_block(block);
  }
  return {};
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::string out;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  auto r = ForEachBlock(path, [&](std::string_view block) { out.append(block); });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(IoError(path, "cannot write"));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::close(fd) == 0;
  if (done != text.size()) ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const Error e = IoError(path, "cannot write");
    ::unlink(tmp.c_str());
    return std::unexpected(e);
  }
  return {};
}

}  // namespace gpuledger
