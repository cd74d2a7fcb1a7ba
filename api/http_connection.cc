#include "api/http_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "api/http_util.h"
#include "api/problem.h"

namespace tongban::api {

namespace {

// Waits until `sock` has something to read (or was closed by the peer); false on timeout or error.
bool WaitReadable(socket_t sock, int timeout_ms) {
  pollfd fd{sock, POLLIN, 0};
  for (;;) {
    int n = ::poll(&fd, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// The connection's stream: one read buffer for as long as the connection lives, so that what a
// client sent ahead (the next pipelined request) waits here for its turn.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, const ConnectionOptions& options)
      : sock_(sock),
        read_timeout_ms_(static_cast<int>(options.read_timeout_sec * 1000)),
        write_timeout_ms_(static_cast<int>(options.write_timeout_sec * 1000)) {}

  bool is_readable() const override {
    return offset_ < buffer_.size() || WaitReadable(sock_, read_timeout_ms_);
  }
  bool is_writable() const override {
    pollfd fd{sock_, POLLOUT, 0};
    for (;;) {
      int n = ::poll(&fd, 1, write_timeout_ms_);
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && (fd.revents & (POLLERR | POLLHUP)) == 0;
    }
  }
  ssize_t read(char* ptr, size_t size) override {
    if (offset_ == buffer_.size() && Fill() <= 0) return -1;
    size_t n = std::min(size, buffer_.size() - offset_);
    std::memcpy(ptr, buffer_.data() + offset_, n);
    offset_ += n;
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0 && written_.size() < kStatusBytes) {
      written_.append(ptr, std::min(static_cast<size_t>(n), kStatusBytes - written_.size()));
    }
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(::getsockname, ip, port);
  }
  socket_t socket() const override { return sock_; }

  bool Buffered() const { return offset_ < buffer_.size(); }
  // Bytes handed out by read() so far.
  uint64_t consumed() const { return consumed_; }

  // Reads until the buffer holds a whole request head (ending in an empty line) within `limit`
  // bytes, skipping empty lines before it (RFC 9112 §2.2). Sets `head` to the request line and the
  // header lines, each with its CRLF. kTooLarge when no head ends within the limit; false when the
  // client closed or went quiet first.
  enum class Head { kRead, kTooLarge, kGone };
  Head ReadHead(size_t limit, std::string* head) {
    for (;;) {
      while (buffer_.compare(offset_, 2, "\r\n") == 0)
        offset_ += 2;
      size_t end = buffer_.find("\r\n\r\n", offset_);
      if (end != std::string::npos && end - offset_ <= limit) {
        head->assign(buffer_, offset_, end + 2 - offset_);
        return Head::kRead;
      }
      if (buffer_.size() - offset_ > limit + 4) return Head::kTooLarge;
      if (Fill() <= 0) return Head::kGone;
    }
  }
  // Adds a header line at the end of the head ReadHead found (`head_size` bytes long).
  void InsertIntoHead(size_t head_size, const std::string& line) {
    buffer_.insert(offset_ + head_size, line);
  }

  // The status code of the response written since the last call (0 when unknown).
  int TakeStatus() {
    std::string written = std::move(written_);
    written_.clear();
    const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    if (written.rfind(kContinue, 0) == 0) written.erase(0, kContinue.size());
    if (written.size() < 12 || written.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
    return std::atoi(written.substr(9, 3).c_str());
  }

 private:
  static constexpr size_t kChunk = 16384;
  static constexpr size_t kStatusBytes = 64;

  // Appends what the socket has to the buffer (dropping what was read); the bytes read, 0 at the
  // end of the stream, -1 on timeout or error.
  ssize_t Fill() {
    if (offset_ == buffer_.size()) {
      buffer_.clear();
      offset_ = 0;
    } else if (offset_ > kChunk) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    if (!WaitReadable(sock_, read_timeout_ms_)) return -1;
    size_t old = buffer_.size();
    buffer_.resize(old + kChunk);
    ssize_t n;
    do {
      n = ::recv(sock_, buffer_.data() + old, kChunk, 0);
    } while (n < 0 && errno == EINTR);
    buffer_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    return n;
  }

  template <typename Get>
  void Address(Get get, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (get(sock_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  socket_t sock_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::string buffer_;
  size_t offset_ = 0;
  uint64_t consumed_ = 0;
  std::string written_;  // the start of the response being written
};

// Waits for the next request on an idle connection: true once it has bytes (or the client closed
// it); false when it idled past `timeout_sec` or the server is stopping.
bool AwaitRequest(socket_t sock, const std::atomic<socket_t>& listener, time_t timeout_sec) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
  while (listener.load() != INVALID_SOCKET) {
    if (WaitReadable(sock, 50)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return false;
}

// A problem sent outside httplib (it never parsed the request), closing the connection.
void SendRawProblem(httplib::Stream& stream, int status, const char* reason,
                    const std::string& slug, const std::string& title, const std::string& detail) {
  std::string body = Dump(MakeProblem(status, slug, title, detail).ToJson());
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + kProblemJson +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = stream.write(response.data() + sent, response.size() - sent);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HeadCheck CheckRequestHead(const std::string& head, const HeadLimits& limits, std::string* detail) {
  size_t start = head.find("\r\n");  // the request line is httplib's (400, 414)
  if (start == std::string::npos) return HeadCheck::kOk;
  start += 2;
  if (head.size() - start > limits.max_head_bytes) {
    *detail =
        "the request's header fields exceed " + std::to_string(limits.max_head_bytes) + " bytes";
    return HeadCheck::kTooLarge;
  }
  size_t fields = 0;
  while (start < head.size()) {
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(start, end - start);
    start = end + 2;
    if (++fields > limits.max_fields) {
      *detail = "the request has more than " + std::to_string(limits.max_fields) + " header fields";
      return HeadCheck::kTooLarge;
    }
    if (line.size() + 2 > limits.max_line_bytes) {
      *detail = "a header line exceeds " + std::to_string(limits.max_line_bytes) + " bytes";
      return HeadCheck::kTooLarge;
    }
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      *detail = "a header line is folded (obsolete line folding, RFC 9112 §5.2)";
      return HeadCheck::kMalformed;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      *detail = "a header line has no colon";
      return HeadCheck::kMalformed;
    }
    if (colon == 0 || !std::all_of(line.begin(), line.begin() + colon, [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        })) {
      *detail = "a header field name is not a token (RFC 9110 §5.1)";
      return HeadCheck::kMalformed;
    }
    for (size_t i = colon + 1; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        *detail = "a header field value holds a control character";
        return HeadCheck::kMalformed;
      }
    }
  }
  return HeadCheck::kOk;
}

void ServeConnection(socket_t sock, const std::atomic<socket_t>& listener,
                     const ConnectionOptions& options, const ProcessRequest& process) {
  ConnectionStream stream(sock, options);
  // The request line may be as long as httplib allows (it answers 414 past that).
  const size_t head_limit = options.limits.max_head_bytes + CPPHTTPLIB_REQUEST_URI_MAX_LENGTH;
  for (size_t left = options.keep_alive_max_count; left > 0; --left) {
    if (listener.load() == INVALID_SOCKET) return;
    if (!stream.Buffered() && !AwaitRequest(sock, listener, options.keep_alive_timeout_sec)) return;
    std::string head;
    uint64_t request_bytes = 0;
    bool chunked = false;  // then its length is not known in advance
    std::string detail = "the request's head exceeds " + std::to_string(head_limit) + " bytes";
    auto read = stream.ReadHead(head_limit, &head);
    if (read == ConnectionStream::Head::kGone) return;
    HeadCheck check = read == ConnectionStream::Head::kTooLarge
                          ? HeadCheck::kTooLarge
                          : CheckRequestHead(head, options.limits, &detail);
    if (check == HeadCheck::kOk) {
      // How long the body is must be certain, or the next request cannot be found: RFC 9112 §6.
      std::string length;
      for (size_t at = head.find("\r\n") + 2; at < head.size();) {
        size_t end = head.find("\r\n", at);
        size_t colon = head.find(':', at);
        std::string name = Lower(head.substr(at, colon - at));
        std::string value = head.substr(colon + 1, end - colon - 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t") + 1);
        if (name == "transfer-encoding") chunked = true;
        if (name == "content-length") {
          if (value.empty() || value.size() > 18 ||
              !std::all_of(value.begin(), value.end(), ::isdigit) ||
              (!length.empty() && length != value)) {
            check = HeadCheck::kMalformed;
            detail = "Content-Length is not one whole number";
          }
          length = value;
        }
        at = end + 2;
      }
      if (chunked && !length.empty()) {
        check = HeadCheck::kMalformed;
        detail = "a request has both Content-Length and Transfer-Encoding";
      }
      const std::string method = head.substr(0, head.find(' '));
      if (check == HeadCheck::kOk && !chunked && length.empty() &&
          (method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE")) {
        // No length: no body (httplib would read to the end of the connection instead).
        const std::string line = "Content-Length: 0\r\n";
        stream.InsertIntoHead(head.size(), line);
        head += line;
      }
      // The whole request: the head, the empty line that ends it and the body.
      request_bytes = head.size() + 2 + (length.empty() ? 0 : std::stoull(length));
    }
    // Counted before the answer is sent: whoever has seen the answer finds it in the metrics.
    if (check == HeadCheck::kMalformed) {
      if (options.head_refused) options.head_refused(400);
      SendRawProblem(stream, 400, "Bad Request", "malformed-header", "Malformed request header",
                     detail);
      return;
    }
    if (check == HeadCheck::kTooLarge) {
      if (options.head_refused) options.head_refused(431);
      SendRawProblem(stream, 431, "Request Header Fields Too Large", "headers-too-large",
                     "Request header fields too large", detail);
      return;
    }
    bool connection_closed = false;
    const uint64_t before = stream.consumed();
    if (!process(stream, left == 1, connection_closed) || connection_closed) return;
    // After a refusal httplib may not have read the whole request (its body, say): what follows
    // in the buffer would then be taken for the next request, so the connection ends here.
    const int status = stream.TakeStatus();
    if (chunked ? status == 0 || status >= 400 : stream.consumed() - before != request_bytes)
      return;
  }
}

}  // namespace tongban::api
