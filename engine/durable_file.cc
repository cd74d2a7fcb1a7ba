#include "engine/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tongban {

Status WriteSyncAndClose(int fd, std::string_view bytes, const std::string& what) {
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool synced = written == bytes.size() && ::fsync(fd) == 0;
  const int write_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (synced && closed) return Status::Ok();
  return Status::Internal("cannot write " + what + ": " +
                          std::strerror(synced ? errno : write_errno));
}

Status WriteNewFile(const std::string& path, std::string_view bytes) {
  const std::string partial = path + ".partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  Status written = WriteSyncAndClose(fd, bytes, path);
  if (!written.ok()) {
    ::unlink(partial.c_str());
    return written;
  }
  const bool linked = ::link(partial.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(partial.c_str());
  if (linked) return Status::Ok();
  if (link_errno == EEXIST) return Status::AlreadyExists(path + " already exists");
  return Status::Internal("cannot write " + path + ": " + std::strerror(link_errno));
}

}  // namespace tongban
