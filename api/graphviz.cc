#include "api/graphviz.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace tongban::api {

namespace {

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string Errno(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

Result<std::string> RenderSvg(const std::string& dot_text, const GraphvizOptions& options) {
  // The input goes in through an in-memory file, so that writing it can neither block on a full
  // pipe nor raise SIGPIPE when the child dies early; only the output needs a loop.
  Fd input(memfd_create("tongban-dot", MFD_CLOEXEC));
  if (input.get() < 0) return Status::Internal(Errno("memfd_create"));
  for (size_t written = 0; written < dot_text.size();) {
    ssize_t n = write(input.get(), dot_text.data() + written, dot_text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal(Errno("writing the graph"));
    written += static_cast<size_t>(n);
  }
  if (lseek(input.get(), 0, SEEK_SET) < 0) return Status::Internal(Errno("lseek"));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::Internal(Errno("pipe2"));
  Fd output(pipe_fds[0]);
  Fd output_write(pipe_fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string program = options.program;
  std::string format = "-Tsvg";
  char* argv[] = {program.data(), format.data(), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return Status::Unavailable("cannot run Graphviz \"" + program +
                               "\": " + std::strerror(spawned));
  }
  output_write.reset();
  input.reset();

  std::string svg;
  bool timed_out = false;
  bool too_large = false;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  char buffer[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{output.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = read(output.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output (or an error: the exit status tells)
    svg.append(buffer, static_cast<size_t>(n));
    if (svg.size() > options.max_output_bytes) {
      too_large = true;
      break;
    }
  }
  if (timed_out || too_large) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Status::Unavailable("Graphviz took longer than " +
                               std::to_string(options.timeout.count()) + " ms");
  }
  if (too_large) return Status::Internal("Graphviz wrote more than the output limit");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal("Graphviz failed (exit status " +
                            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return svg;
}

}  // namespace tongban::api
