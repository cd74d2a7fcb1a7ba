#include "api/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "api/http_connection.h"
#include "api/http_util.h"
#include "api/problem.h"
#include "api/routes.h"

namespace tongban::api {

// cpp-httplib hard-codes a listen backlog of 5; the listening socket is protected, so a subclass
// raises it after binding (Linux applies a second listen() to a listening socket).
class ApiServer::TunedServer : public httplib::Server {
 public:
  void RaiseBacklog(int backlog) { ::listen(svr_sock_, backlog); }
  // Closes the listening socket whether or not the accept loop has started. httplib's stop() does
  // nothing until listen_after_bind() has marked the server running, so a stop that came between
  // Bind() and Serve() (a SIGTERM right after start, a test tearing down at once) was lost and
  // Serve() then never returned. The accept loop ends when it finds the socket closed, or never
  // starts.
  void CloseListener() {
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }

 private:
  // Each connection is served by our loop (http_connection.h): one read buffer per connection, so
  // pipelined requests are answered in order rather than dropped, and request heads checked.
  bool process_and_close_socket(socket_t sock) override {
    ConnectionOptions options;
    options.keep_alive_max_count = keep_alive_max_count_;
    options.keep_alive_timeout_sec = keep_alive_timeout_sec_;
    options.read_timeout_sec = read_timeout_sec_;
    options.write_timeout_sec = write_timeout_sec_;
    ServeConnection(sock, svr_sock_, options,
                    [this](httplib::Stream& stream, bool close, bool& closed) {
                      return process_request(stream, close, closed, nullptr);
                    });
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }
};

ApiServer::ApiServer(CaseService* service, std::shared_ptr<const PrincipalSet> principals,
                     SimulatedClock* simulated_clock, ServerOptions options)
    : principals_(std::move(principals)),
      options_(std::move(options)),
      context_{service, principals_.get(), &metrics_, simulated_clock, &options_},
      http_(std::make_unique<TunedServer>()) {
  httplib::Server& http = *http_;
  http.set_tcp_nodelay(true);  // without it small responses wait for delayed ACKs (~40 ms)
  const int threads = options_.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(10000);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_payload_max_length(options_.max_body_bytes);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    Problem p;
    if (res.status == 413) {
      p = MakeProblem(413, "too-large", "Request body too large",
                      "the request body exceeds the server's limit");
    } else if (res.status == 404) {
      p = MakeProblem(404, "not-found", "Not found", "no such resource");
    } else {
      p = MakeProblem(res.status, "http-" + std::to_string(res.status), "HTTP error",
                      "the request could not be served");
    }
    res.set_content(Dump(p.ToJson()), kProblemJson);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendProblem(res, MakeProblem(500, "internal", "Internal error", "unexpected failure"));
      });
  routes_ = RegisterRoutes(context_, http);
}

ApiServer::~ApiServer() {
  Stop();
}

Result<int> ApiServer::Bind() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
    if (port < 0) return Status::Unavailable("cannot bind " + options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    return Status::Unavailable("cannot listen on " + options_.host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine)");
  }
  http_->RaiseBacklog(options_.listen_backlog);
  return port;
}

void ApiServer::Serve() {
  if (stopping_.load()) return;
  http_->listen_after_bind();
}

void ApiServer::Stop() {
  if (stopping_.exchange(true)) return;
  http_->CloseListener();
}

}  // namespace tongban::api
