#include "api/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "api/console_routes.h"
#include "api/http_connection.h"
#include "api/http_util.h"
#include "api/problem.h"
#include "api/routes.h"

namespace tongban::api {

namespace {

// The `route` label of requests answered before any route: a refused request head, an overloaded
// server's 503, a path no route matches.
constexpr const char* kRefusedHeadRoute = "(request head)";
constexpr const char* kOverloadedRoute = "(overloaded)";
constexpr const char* kUnroutedRoute = "(no route)";

// True on the overflow workers: every request they read is answered 503 at once.
thread_local bool t_overflow = false;

// httplib's ThreadPool (0.11.4, Debian) queues accepted connections without bound, so under
// overload a request waited in the queue for as long as it took — unbounded latency. This pool
// keeps at most `max_queued` connections waiting for a worker; past that, a connection goes to
// one of a few overflow workers, which answer each of its requests with a 503 problem
// (Retry-After, Connection: close) instead of running it. The connection is httplib's opaque task,
// so it is refused by serving it in that mode rather than by closing it unanswered: no request is
// dropped without an answer. (A client that keeps a refused connection open holds an overflow
// worker until the keep-alive timeout.)
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(int threads, int max_queued) : max_queued_(static_cast<size_t>(max_queued)) {
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { Work(false); });
    for (int i = 0; i < kOverflowThreads; ++i)
      threads_.emplace_back([this] { Work(true); });
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (max_queued_ == 0 || jobs_.size() < max_queued_) {
        jobs_.push_back(std::move(fn));
      } else {
        overflow_.push_back(std::move(fn));
      }
    }
    cv_.notify_all();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_)
      t.join();
  }

 private:
  static constexpr int kOverflowThreads = 2;

  void Work(bool overflow) {
    t_overflow = overflow;
    std::deque<std::function<void()>>& mine = overflow ? overflow_ : jobs_;
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return shutdown_ || !mine.empty(); });
        if (mine.empty()) return;  // shutting down, nothing left
        fn = std::move(mine.front());
        mine.pop_front();
      }
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::deque<std::function<void()>> overflow_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

// cpp-httplib hard-codes a listen backlog of 5; the listening socket is protected, so a subclass
// raises it after binding (Linux applies a second listen() to a listening socket).
class ApiServer::TunedServer : public httplib::Server {
 public:
  void RaiseBacklog(int backlog) { ::listen(svr_sock_, backlog); }
  // Where requests refused before routing are counted; not owned, set once before serving.
  Metrics* metrics = nullptr;
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
    options.head_refused = [this](int status) {
      if (metrics != nullptr) metrics->RecordRequest(kRefusedHeadRoute, status, 0);
    };
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
  http_->metrics = &metrics_;
  http.set_tcp_nodelay(true);  // without it small responses wait for delayed ACKs (~40 ms)
  // httplib's default also sets SO_REUSEPORT, with which a second server binds a port that one
  // already listens on and the kernel shares the connections between the two (two databases
  // answering one address). SO_REUSEADDR alone still lets a restarted server bind at once over
  // the old one's connections in TIME_WAIT.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const int threads = options_.threads;
  const int max_queued = options_.max_queued_connections;
  http.new_task_queue = [threads, max_queued] { return new BoundedPool(threads, max_queued); };
  http.set_pre_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (!t_overflow) return httplib::Server::HandlerResponse::Unhandled;
    SendProblem(res, MakeProblem(503, "overloaded", "The server is overloaded",
                                 "too many requests are waiting; try again shortly"));
    metrics_.RecordRequest(kOverloadedRoute, 503, 0);
    res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_keep_alive_max_count(10000);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  // Documents are larger than any other body: the server reads up to their limit (past it httplib
  // skips the body and answers 413), and the route wrapper (routes.cc) keeps every other route to
  // max_body_bytes.
  http.set_payload_max_length(std::max<size_t>(
      options_.max_body_bytes, static_cast<size_t>(service->document_policy().max_bytes) + 1));
  http.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    // No route answered (an unknown path, a body over the limit): counted here, as no route did.
    metrics_.RecordRequest(kUnroutedRoute, res.status, 0);
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
  // The console's pages and assets: not JSON API routes, so not in routes_ (nor in OpenAPI).
  RegisterConsoleRoutes(options_.console_dir, http);
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
